import type { ServerResponse } from 'node:http';
import type { GatewayRequest } from '../pipeline/types';

/**
 * The access line of one request. Byte counts are what crossed the client connection during this
 * request, headers included (`bytesRead`/`bytesWritten` of the socket when it started).
 */
export function accessLine(req: GatewayRequest, res: ServerResponse, status: number, readAtStart: number, writtenAtStart: number): Record<string, unknown> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const socket = req.socket;
  return {
    timestamp: new Date().toISOString(),
    level: 'info',
    message: 'request',
    requestId: req.id,
    traceId: req.trace.traceId,
    method: req.method,
    // Never the query string: it may carry secrets.
    path: q === -1 ? url : url.slice(0, q),
    route: req.gatewayRoute?.name ?? null,
    service: req.gatewayRoute?.service.name ?? null,
    upstream: req.upstream?.url ?? null,
    retries: req.retries,
    // The rate-limit key type the route counts by (ip, user, header:<Name>, global), when it has a limit.
    rateLimitKey: req.gatewayRoute?.config.rateLimit.enabled ? req.gatewayRoute.config.rateLimit.key : null,
    status,
    durationMs: Math.round((performance.now() - req.startedAt) * 100) / 100,
    bytesIn: socket.bytesRead - readAtStart,
    bytesOut: socket.bytesWritten - writtenAtStart,
    clientIp: req.clientIp,
    // Who, for the audit trail: the verified token's subject, never anything the client claimed.
    user: req.user?.sub ?? null,
  };
}
