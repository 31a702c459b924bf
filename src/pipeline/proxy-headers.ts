import type { OutgoingHttpHeaders } from 'node:http';
import type { GatewayRequest, HeaderList } from './types';
import { bufferToLowerCasedHeaderName } from '../upstream/undici';

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross the gateway, in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

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

/**
 * Whether a client header whose name holds `_` is dropped: always when, read with `-` for `_` (as
 * WSGI and CGI servers read it: X-User_Id becomes HTTP_X_USER_ID, the same as X-User-Id), it is a
 * header the gateway drops or sets itself; otherwise when gateway.dropUnderscoreHeaders is on.
 */
export function dropsUnderscoreName(name: string, dropped: ReadonlySet<string>, dropAll: boolean): boolean {
  return dropAll || dropped.has(name.replaceAll('_', '-'));
}

/** Names a `Connection` header lists are hop-by-hop for this message too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // Almost every request and response says just `keep-alive`, a name already in HOP_BY_HOP:
  // skip building a set for it on the request path.
  if (value === undefined || value === 'keep-alive') return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * The headers of the upstream request, as the flat `[name, value, ...]` list undici takes
 * (undici reads an object through Object.keys and a lookup per name: the list costs it less).
 * Identity headers (X-User-Id, ...) come only from `req.user`, which only the auth stage sets from
 * a verified token: client copies are dropped on every route, with or without auth, so they can
 * never be spoofed.
 */
export function upstreamRequestHeaders(req: GatewayRequest, trustedPeer: boolean): string[] {
  const route = req.gatewayRoute;
  // Without its route the identity headers to drop are unknown: refuse rather than pass them on.
  if (route === undefined) throw new Error('upstream request headers need the matched route');
  const dropped = route.droppedRequestHeaders;
  const incoming = req.headers;
  const extra = connectionTokens(incoming.connection);
  const out: string[] = [];
  for (const name in incoming) {
    if (dropped.has(name) || extra?.has(name)) continue;
    if (name.includes('_') && dropsUnderscoreName(name, dropped, route.dropUnderscoreHeaders)) continue;
    const value = incoming[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const one of value) out.push(name, one); // node keeps only set-cookie as a list
  }
  const user = req.user;
  if (user !== undefined) for (const name in user.forwardHeaders) out.push(name, user.forwardHeaders[name]);
  const peer = req.clientSocket.remoteAddress ?? '';
  const priorFor = trustedPeer ? incoming['x-forwarded-for'] : undefined;
  out.push('x-forwarded-for', priorFor ? `${Array.isArray(priorFor) ? priorFor.join(', ') : priorFor}, ${peer}` : peer);
  const priorProto = trustedPeer ? incoming['x-forwarded-proto'] : undefined;
  out.push('x-forwarded-proto', typeof priorProto === 'string' ? priorProto : 'encrypted' in req.clientSocket ? 'https' : 'http');
  const priorHost = trustedPeer ? incoming['x-forwarded-host'] : undefined;
  const host = typeof priorHost === 'string' ? priorHost : incoming.host;
  if (host) out.push('x-forwarded-host', host);
  out.push('x-request-id', req.id, 'traceparent', req.trace.traceparent);
  // A discovered instance is an address: its virtual host is the service's name (undici sends the
  // address otherwise).
  const upstreamHost = route.service.hostHeader;
  if (upstreamHost !== undefined) out.push('host', upstreamHost);
  return out;
}

/** The response headers no route passes on: the hop-by-hop ones. Stages add to a route's copy. */
export function droppedResponseHeaders(): Set<string> {
  return new Set(HOP_BY_HOP);
}

/** Bound here once: a call through the imported module object would cost a property load per header. */
const headerName = bufferToLowerCasedHeaderName;

function nameOf(raw: Buffer | string): string {
  return typeof raw === 'string' ? raw.toLowerCase() : headerName(raw);
}

/**
 * The upstream's response headers (name, value, name, value, ... as bytes) as a flat list of
 * strings, minus `dropped` and the names its Connection header lists.
 */
function relayedHeaders(raw: readonly (Buffer | string)[], dropped: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = nameOf(raw[i]);
    if (dropped.has(name)) {
      if (name === 'connection') connection = raw[i + 1].toString('latin1');
      continue;
    }
    out.push(name, raw[i + 1].toString('latin1'));
  }
  const extra = connectionTokens(connection);
  if (extra) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (extra.has(out[i])) out.splice(i, 2);
  }
  return out;
}

/**
 * The upstream's relayed response headers as an object, for header edits. A repeated name (such
 * as Set-Cookie) becomes an array, so each value is written on its own line.
 */
export function clientResponseHeaders(raw: readonly (Buffer | string)[], dropped: ReadonlySet<string>): OutgoingHttpHeaders {
  const list = relayedHeaders(raw, dropped);
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    const prior = out[name];
    if (prior === undefined) out[name] = list[i + 1];
    else if (Array.isArray(prior)) prior.push(list[i + 1]);
    else out[name] = [String(prior), list[i + 1]];
  }
  return out;
}

/**
 * The client response head as node's flat list (name, value, name, value, ...), for a route whose
 * answers no header edit changes: the upstream's relayed headers, then the gateway's own (`own`,
 * then the request id), each unless the upstream sent that name itself. No object is built per
 * answer: that and node walking its keys cost three times as much as this list.
 */
export function clientResponseHead(raw: readonly (Buffer | string)[], dropped: ReadonlySet<string>, own: HeaderList, ownNames: ReadonlySet<string>, requestId: string): string[] {
  const out = relayedHeaders(raw, dropped);
  let sentByUpstream: string[] | undefined;
  for (let i = 0; i < out.length; i += 2) if (ownNames.has(out[i])) (sentByUpstream ??= []).push(out[i]);
  for (let i = 0; i < own.length; i++) {
    if (sentByUpstream === undefined || !sentByUpstream.includes(own[i][0])) out.push(own[i][0], own[i][1]);
  }
  if (sentByUpstream === undefined || !sentByUpstream.includes('x-request-id')) out.push('x-request-id', requestId);
  return out;
}
