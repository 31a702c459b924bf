import type { CompiledRoute, GatewayRequest } from '../pipeline/types';

/** A JSON string literal; client-sent text (path, user) may hold quotes or control characters. */
const quote = JSON.stringify as (text: string) => string;

function quoteOrNull(text: string | undefined | null): string {
  return text === undefined || text === null ? 'null' : quote(text);
}

/** Text JSON would escape: quotes, backslashes, control characters, lone surrogates. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The quoted text, skipping JSON.stringify for the usual path with nothing to escape. */
function quotePath(text: string): string {
  return NEEDS_ESCAPING.test(text) ? quote(text) : `"${text}"`;
}

/** Upstream URLs come from the config: each is quoted once. */
const quotedUrls = new Map<string, string>();

function quoteUrl(url: string | undefined): string {
  if (url === undefined) return 'null';
  let text = quotedUrls.get(url);
  if (text === undefined) {
    text = quote(url);
    if (quotedUrls.size >= 1000) quotedUrls.clear();
    quotedUrls.set(url, text);
  }
  return text;
}

/**
 * Formatting a date costs ~1 µs: lines of the same second share its text up to the milliseconds,
 * which are appended.
 */
let secondStart = 0;
let secondText = '';

function timestamp(): string {
  const now = Date.now();
  const ms = now - secondStart;
  if (ms < 0 || ms >= 1000) {
    secondStart = now - (now % 1000);
    secondText = new Date(secondStart).toISOString().slice(0, 20); // up to "ss."
    return `${secondText}${String(now % 1000).padStart(3, '0')}Z`;
  }
  return `${secondText}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** The fields that are the same for every request of a route, serialised once per compiled route. */
const routeFields = new WeakMap<CompiledRoute, string>();

function fieldsOf(route: CompiledRoute | undefined): string {
  if (route === undefined) return '"route":null,"service":null';
  let text = routeFields.get(route);
  if (text === undefined) {
    text = `"route":${quote(route.name)},"service":${quote(route.service.name)}`;
    routeFields.set(route, text);
  }
  return text;
}

function rateLimitKeyOf(route: CompiledRoute | undefined): string {
  return route?.config.rateLimit.enabled ? quote(route.config.rateLimit.key) : 'null';
}

/**
 * The access line of one request, one JSON object. It is written out field by field rather than
 * built as an object and passed to JSON.stringify: at thousands of requests per second that was a
 * visible share of the gateway's CPU time. Byte counts are what crossed the client connection
 * during this request, headers included (the socket's `bytesRead`/`bytesWritten` when it started, kept on the
 * request).
 */
export function accessLine(req: GatewayRequest, status: number): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const socket = req.socket;
  const route = req.gatewayRoute;
  return (
    `{"timestamp":"${timestamp()}","level":"info","message":"request"` +
    // The request id is either the gateway's own or a client's that passed a strict pattern.
    // The method is an HTTP token (node's parser checks it): nothing in it needs escaping.
    `,"requestId":"${req.id}","traceId":"${req.trace.traceId}","method":"${req.method ?? 'GET'}"` +
    // Never the query string: it may carry secrets.
    `,"path":${quotePath(q === -1 ? url : url.slice(0, q))},${fieldsOf(route)}` +
    `,"upstream":${quoteUrl(req.upstream?.url)},"retries":${req.retries}` +
    // The rate-limit key type the route counts by (ip, user, header:<Name>, global), when it has a limit.
    `,"rateLimitKey":${rateLimitKeyOf(route)},"status":${status}` +
    `,"durationMs":${Math.round((performance.now() - req.startedAt) * 100) / 100}` +
    `,"bytesIn":${socket.bytesRead - req.bytesReadAtStart},"bytesOut":${socket.bytesWritten - req.bytesWrittenAtStart}` +
    // Who, for the audit trail: the verified token's subject, never anything the client claimed.
    `,"clientIp":${quote(req.clientIp)},"user":${quoteOrNull(req.user?.sub)}}`
  );
}
