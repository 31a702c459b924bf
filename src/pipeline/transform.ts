import type { OutgoingHttpHeaders } from 'node:http';
import { parseTemplate, RequestPlaceholder, Template } from '../config/placeholders';
import type { HeaderOps } from '../config/types';
import { joinQuery, paramName, splitQuery } from '../routing/query-string';
import type { GatewayRequest, Handler, ResponseHeaderEdit, StageFactory } from './types';

/** A value: a constant when it has no request placeholder, else its parts (resolved per request). */
type Value = string | Template;

function compileValue(raw: string): Value {
  const parts = parseTemplate(raw);
  return parts.length === 1 && 'text' in parts[0] ? parts[0].text : parts;
}

function placeholderValue(name: RequestPlaceholder, req: GatewayRequest): string | undefined {
  switch (name) {
    case 'request.id':
      return req.id;
    case 'client.ip':
      return req.clientIp;
    case 'route.name':
      return req.gatewayRoute?.name;
    case 'service.name':
      return req.gatewayRoute?.service.name;
    case 'user.sub':
      return req.user?.sub;
  }
}

/** The value for this request; undefined when a placeholder has no value (anonymous `${user.sub}`). */
function resolve(value: Value, req: GatewayRequest): string | undefined {
  if (typeof value === 'string') return value;
  let out = '';
  for (const part of value) {
    if ('text' in part) out += part.text;
    else {
      const v = placeholderValue(part.placeholder, req);
      if (v === undefined) return undefined;
      out += v;
    }
  }
  return out;
}

interface HeaderEdits {
  remove: readonly string[];
  set: readonly (readonly [string, Value])[];
  add: readonly (readonly [string, Value])[];
}

/** Lowercased names (node's header objects are lowercase); a name removed is never set or added. */
function headerEdits(ops: HeaderOps): HeaderEdits | undefined {
  const remove = ops.remove.map((n) => n.toLowerCase());
  const kept = (entries: Record<string, string>) =>
    Object.entries(entries)
      .map(([n, v]) => [n.toLowerCase(), compileValue(v)] as const)
      .filter(([n]) => !remove.includes(n));
  const edits = { remove, set: kept(ops.set), add: kept(ops.add) };
  return edits.remove.length || edits.set.length || edits.add.length ? edits : undefined;
}

function applyHeaderEdits(headers: Record<string, unknown>, edits: HeaderEdits, req: GatewayRequest): void {
  for (const name of edits.remove) delete headers[name];
  for (const [name, value] of edits.set) {
    const v = resolve(value, req);
    if (v !== undefined) headers[name] = v;
  }
  for (const [name, value] of edits.add) {
    const v = resolve(value, req);
    if (v === undefined) continue;
    const prior = headers[name];
    headers[name] = prior === undefined ? v : Array.isArray(prior) ? [...(prior as string[]), v] : [String(prior), v];
  }
}

interface QueryEdits {
  /** Encoded names whose parameters are dropped (removed, or replaced by `set`). */
  drop: ReadonlySet<string>;
  set: readonly (readonly [string, Value])[];
}

function queryEdits(query: { set: Record<string, string>; remove: string[] }): QueryEdits | undefined {
  const set = Object.entries(query.set).map(([n, v]) => [encodeURIComponent(n), compileValue(v)] as const);
  if (set.length === 0 && query.remove.length === 0) return undefined;
  return { drop: new Set([...query.remove.map(encodeURIComponent), ...set.map(([n]) => n)]), set };
}

/** The URL with parameters removed and set; the other parameters keep their raw bytes and order. */
function editQuery(url: string, edits: QueryEdits, req: GatewayRequest): string {
  const { path, pairs } = splitQuery(url);
  const kept = pairs.filter((pair) => !edits.drop.has(paramName(pair)));
  for (const [name, value] of edits.set) {
    const v = resolve(value, req);
    if (v !== undefined) kept.push(`${name}=${encodeURIComponent(v)}`);
  }
  return joinQuery(path, kept);
}

/**
 * Request and response transformation with the fixed placeholders. Request headers and the query
 * are changed before the proxy builds the upstream request; response changes are header edits the
 * proxy applies when the upstream answers: the body is never touched, so streams stay streams.
 */
export const createTransformStage: StageFactory = (route) => {
  const t = route.config.transform;
  const response = headerEdits(t.response.headers);
  const responseHead = response && {
    edit: function transformResponseHeaders(headers: OutgoingHttpHeaders, req) {
      applyHeaderEdits(headers, response, req);
    } satisfies ResponseHeaderEdit,
  };
  const request = headerEdits(t.request.headers);
  const query = queryEdits(t.request.query);
  if (!request && !query) return responseHead ? { responseHead } : null;
  return {
    request: function transform(req, _res, next) {
      if (request) applyHeaderEdits(req.headers, request, req);
      if (query) req.url = editQuery(req.url ?? '/', query, req);
      next();
    } satisfies Handler,
    responseHead,
  };
};
