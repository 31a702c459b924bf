import type { OutgoingHttpHeaders } from 'node:http';
import type { GatewayRequest } from './types';

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross the gateway, in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers the gateway sets itself on the upstream request, so client copies are dropped. */
const REPLACED_UPSTREAM = new Set(['host', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'traceparent']);

/**
 * The request headers never copied upstream as the client sent them: hop-by-hop ones, those the
 * gateway sets itself, and `stripped` (identity headers, Authorization when a route strips it).
 * Built once per route when a config is compiled, so the per-request cost is one set lookup.
 */
export function droppedRequestHeaders(stripped: Iterable<string>): ReadonlySet<string> {
  return new Set([...HOP_BY_HOP, ...REPLACED_UPSTREAM, ...[...stripped].map((h) => h.toLowerCase())]);
}

/** Names a `Connection` header lists are hop-by-hop for this message too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // Almost every request and response says just `keep-alive`, a name already in HOP_BY_HOP:
  // skip building a set for it on the request path.
  if (value === undefined || value === 'keep-alive') return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/**
 * The headers of the upstream request. Identity headers (X-User-Id, ...) come only from `req.user`,
 * which only the auth stage sets from a verified token: client copies are dropped on every route,
 * with or without auth, so they can never be spoofed.
 */
export function upstreamRequestHeaders(req: GatewayRequest, trustedPeer: boolean): Record<string, string | string[]> {
  const route = req.gatewayRoute;
  // Without its route the identity headers to drop are unknown: refuse rather than pass them on.
  if (route === undefined) throw new Error('upstream request headers need the matched route');
  const dropped = route.droppedRequestHeaders;
  const incoming = req.headers;
  const extra = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (dropped.has(name) || extra?.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  const user = req.user;
  if (user !== undefined) Object.assign(out, user.forwardHeaders);
  const peer = req.socket.remoteAddress ?? '';
  const priorFor = trustedPeer ? incoming['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = priorFor ? `${Array.isArray(priorFor) ? priorFor.join(', ') : priorFor}, ${peer}` : peer;
  const priorProto = trustedPeer ? incoming['x-forwarded-proto'] : undefined;
  out['x-forwarded-proto'] = typeof priorProto === 'string' ? priorProto : 'encrypted' in req.socket ? 'https' : 'http';
  const priorHost = trustedPeer ? incoming['x-forwarded-host'] : undefined;
  const host = typeof priorHost === 'string' ? priorHost : incoming.host;
  if (host) out['x-forwarded-host'] = host;
  out['x-request-id'] = req.id;
  out.traceparent = req.trace.traceparent;
  return out;
}

/**
 * The upstream's response headers as undici hands them to a dispatch handler (name, value, name,
 * value, ... as bytes), minus hop-by-hop ones, ready for `res.writeHead`. A repeated name (such
 * as Set-Cookie) becomes an array, so each value is written on its own line.
 */
export function clientResponseHeaders(raw: readonly (Buffer | string)[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    const value = raw[i + 1].toString('latin1');
    if (HOP_BY_HOP.has(name)) {
      if (name === 'connection') connection = value;
      continue;
    }
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [String(prior), value];
  }
  const extra = connectionTokens(connection);
  if (extra) for (const name of extra) delete out[name];
  return out;
}
