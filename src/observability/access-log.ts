import type { ServerResponse } from 'node:http';
import type { Logger } from './logger';
import type { GatewayRequest } from '../pipeline/types';

/**
 * One JSON line per request, written when the response closes (finished or not). Byte counts are
 * what crossed the client connection during this request, headers included.
 */
export function logRequestWhenDone(req: GatewayRequest, res: ServerResponse, logger: Logger): void {
  const socket = req.socket;
  const readAtStart = socket.bytesRead;
  const writtenAtStart = socket.bytesWritten;
  res.once('close', () => {
    try {
      writeLine();
    } catch (err) {
      // A log line must never take the process down; say so once, at error level.
      logger.error('access log line failed', { requestId: req.id, error: String(err) });
    }
  });
  const writeLine = () => {
    const q = req.url?.indexOf('?') ?? -1;
    logger.info('request', {
      requestId: req.id,
      traceId: req.trace.traceId,
      method: req.method,
      path: q === -1 ? req.url : req.url?.slice(0, q),
      route: req.gatewayRoute?.name ?? null,
      service: req.gatewayRoute?.service.name ?? null,
      upstream: req.upstream?.url ?? null,
      retries: req.retries,
      // 499: the client closed the connection before the response was complete.
      status: res.writableFinished ? res.statusCode : 499,
      durationMs: Math.round((performance.now() - req.startedAt) * 100) / 100,
      bytesIn: socket.bytesRead - readAtStart,
      bytesOut: socket.bytesWritten - writtenAtStart,
      clientIp: req.clientIp,
      // Who, for the audit trail: the verified token's subject, never anything the client claimed.
      user: req.user?.sub ?? null,
    });
  };
}
