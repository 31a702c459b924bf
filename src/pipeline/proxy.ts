import type { ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { GatewayError } from '../errors/catalog';
import { upstreamTarget } from '../routing/rewrite';
import { BodyLimit } from './body-limit';
import { clientResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import type { GatewayRequest, Handler, StageFactory } from './types';

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT']);
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  return String(e?.code ?? e?.cause?.code ?? '');
}

/** Maps an undici failure that happened before any response byte to the gateway's answer. */
export function upstreamFailure(err: unknown, service: string, timeoutMs: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = errorCode(err);
  if (TIMEOUTS.has(code)) {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', `Service "${service}" did not send response headers within ${timeoutMs} ms`);
  }
  if (CONNECT_FAILURES.has(code)) {
    return new GatewayError('GW_UPSTREAM_UNAVAILABLE', `Service "${service}" could not be reached (${code})`);
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return new GatewayError('GW_UPSTREAM_RESET', `Service "${service}" closed the connection before answering`);
  }
  return new GatewayError('GW_UPSTREAM_ERROR', `The request to service "${service}" failed (${code || 'unknown error'})`);
}

function requestHasBody(req: GatewayRequest): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * The last stage: streams the request to the chosen instance through its undici Pool and the
 * response back, both ways without buffering. A client that goes away aborts the upstream request;
 * an upstream that dies mid-response closes the client connection.
 */
export const createProxyStage: StageFactory = (route, _config, deps) => {
  const { prefix, rewrite, timeoutMs, maxBodyBytes } = route;
  const serviceName = route.service.name;

  return function proxy(req: GatewayRequest, res: ServerResponse, next) {
    const instance = req.upstream;
    if (!instance) {
      next(new GatewayError('GW_INTERNAL', 'No upstream instance was selected'));
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      next(new GatewayError('GW_PAYLOAD_TOO_LARGE', `The request body (${declared} bytes) exceeds this route's limit of ${maxBodyBytes} bytes`, { connection: 'close' }));
      return;
    }
    let body: Readable | null = null;
    if (req.method !== 'GET' && req.method !== 'HEAD' && requestHasBody(req)) {
      body = declared === undefined ? req.pipe(new BodyLimit(maxBodyBytes)) : req;
      if (body !== req) req.once('error', (err) => body?.destroy(err));
    }

    const abort = new AbortController();
    // undici's own headersTimeout ticks in ~1 s steps; the route's timeout is kept to the millisecond.
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    instance.inFlight++;
    res.once('close', () => {
      instance.inFlight--;
      clearTimeout(deadline);
      if (!res.writableFinished) abort.abort();
    });

    const headers = upstreamRequestHeaders(req, deps.clientIp.trustsPeer(req.socket.remoteAddress ?? ''));
    instance.pool
      .request({
        path: upstreamTarget(req.url ?? '/', prefix, rewrite),
        method: req.method as 'GET',
        headers,
        body,
        signal: abort.signal,
        headersTimeout: timeoutMs + 1000,
        bodyTimeout: timeoutMs,
      })
      .then(
        (upstream) => {
          clearTimeout(deadline);
          if (res.destroyed) {
            upstream.body.destroy();
            return;
          }
          res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers));
          pipeline(upstream.body, res, (err) => {
            if (err && !res.destroyed) res.destroy();
          });
        },
        (err: unknown) => {
          clearTimeout(deadline);
          if (res.destroyed) return;
          if (timedOut) err = Object.assign(new Error('headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
          else if (abort.signal.aborted) return;
          next(upstreamFailure(err, serviceName, timeoutMs));
        },
      );
  } satisfies Handler;
};
