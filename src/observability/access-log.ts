import type { CompiledRoute, GatewayRequest } from '../pipeline/types';

/** A JSON string literal; client-sent text (path, user) may hold quotes or control characters. */
const quote = JSON.stringify as (text: string) => string;

function quoteOrNull(text: string | undefined | null): string {
  return text === undefined || text === null ? 'null' : quote(text);
}

/** Formatting a date costs ~0.6 µs; lines of the same millisecond share one. */
let stampedAt = 0;
let stamp = '';

function timestamp(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
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
    `,"requestId":"${req.id}","traceId":"${req.trace.traceId}","method":${quote(req.method ?? 'GET')}` +
    // Never the query string: it may carry secrets.
    `,"path":${quote(q === -1 ? url : url.slice(0, q))},${fieldsOf(route)}` +
    `,"upstream":${quoteOrNull(req.upstream?.url)},"retries":${req.retries}` +
    // The rate-limit key type the route counts by (ip, user, header:<Name>, global), when it has a limit.
    `,"rateLimitKey":${rateLimitKeyOf(route)},"status":${status}` +
    `,"durationMs":${Math.round((performance.now() - req.startedAt) * 100) / 100}` +
    `,"bytesIn":${socket.bytesRead - req.bytesReadAtStart},"bytesOut":${socket.bytesWritten - req.bytesWrittenAtStart}` +
    // Who, for the audit trail: the verified token's subject, never anything the client claimed.
    `,"clientIp":${quote(req.clientIp)},"user":${quoteOrNull(req.user?.sub)}}`
  );
}
