import type { ValidateFunction } from 'ajv';
import { GatewayError } from '../errors/catalog';
import { readBody } from './read-body';
import { createAjv, loadRequestSchema, VALIDATE_KEY } from '../validation/request-schema';
import type { GatewayRequest, Handler, Next, StageFactory } from './types';
import { payloadTooLarge } from '../errors/coded';
import { onRequest } from './descriptor';

/** The media type of a Content-Type header, lowercased, without parameters. */
function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

function isJson(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/** Each Ajv error as a JSON pointer into the body (a missing property points where it belongs). */
function pointers(validate: ValidateFunction): { pointer: string; message: string }[] {
  return (validate.errors ?? []).map((e) => {
    const missing = e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : undefined;
    const pointer = missing === undefined ? e.instancePath : `${e.instancePath}/${missing.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    return { pointer: pointer || '/', message: e.message ?? e.keyword };
  });
}

/**
 * Early refusals and request validation: content types the route does not accept (415), and for the
 * "<METHOD> <subpath>" entries of `validate`, the JSON body against its schema (400 listing every
 * error's JSON pointer). Only those requests are buffered (up to the route's maxBodySize); the
 * proxy then sends the very bytes received. Every other request keeps streaming.
 */
export const createValidateStage: StageFactory = (route, _config, deps) => {
  const accepted = route.config.contentTypes.map((t) => t.toLowerCase());
  const entries = Object.entries(route.config.validate);
  if (accepted.length === 0 && entries.length === 0) return null;
  const ajv = deps.shared('ajv', createAjv);
  const schemas = new Map<string, ValidateFunction>();
  for (const [key, file] of entries) {
    const m = VALIDATE_KEY.exec(key);
    if (!m) throw new Error(`route "${route.name}": validate key "${key}" is not "<METHOD> <subpath>"`);
    const sub = m[2] === '/' ? '' : m[2].replace(/\/$/, '');
    schemas.set(`${m[1]} ${route.prefix === '/' ? sub || '/' : route.prefix + sub}`, loadRequestSchema(ajv, file));
  }
  const limit = route.maxBodyBytes;

  function check(req: GatewayRequest, validate: ValidateFunction, body: Buffer, next: Next): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return next(new GatewayError('GW_INVALID_JSON', `The request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (!validate(parsed)) {
      const errors = pointers(validate);
      return next(new GatewayError('GW_VALIDATION_FAILED', errors.map((e) => `${e.pointer}: ${e.message}`).join('; '), {}, { errors }));
    }
    req.body = body;
    next();
  }

  return onRequest(function validateRequest(req, _res, next) {
    const type = mediaType(req.headers['content-type']);
    if (accepted.length && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) && !accepted.includes(type)) {
      return next(new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', `Content-Type "${type || '(none)'}" is not accepted here; accepted: ${accepted.join(', ')}`));
    }
    if (schemas.size === 0) return next();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const validate = schemas.get(`${req.method} ${q === -1 ? url : url.slice(0, q)}`);
    if (validate === undefined) return next();
    if (!isJson(type)) return next(new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', `This call takes a JSON body (Content-Type: application/json), not "${type || '(none)'}"`));
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      return next(payloadTooLarge(limit, declared));
    }
    readBody(req, limit)
      .then(
        (body) => check(req, validate, body, next),
        (err: unknown) => {
          // A client gone while sending leaves nobody to answer.
          if (err instanceof GatewayError) next(err);
        },
      )
      // An exception in the check takes the error exit, never the process's unhandled rejections.
      .catch(next);
  } satisfies Handler);
};
