import type { ServerResponse } from 'node:http';
import { ERROR_CATALOG, ErrorCode, GatewayError } from './catalog';

export const PROBLEM_TYPE_BASE = 'https://tracseq.dev/problems/';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  code: ErrorCode;
  [extension: string]: unknown;
}

export function problemBody(err: GatewayError, instance: string, requestId: string): ProblemBody {
  return {
    type: PROBLEM_TYPE_BASE + err.code.toLowerCase().replace(/^gw_/, '').replace(/_/g, '-'),
    title: ERROR_CATALOG[err.code].title,
    status: err.status,
    detail: err.detail,
    instance,
    requestId,
    code: err.code,
    ...err.extensions,
  };
}

/** Any thrown value becomes a GatewayError; unexpected ones are internal errors. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('GW_INTERNAL', 'The gateway failed while handling this request; the request id identifies it in the logs');
}

/**
 * The one error exit: writes an RFC 9457 problem+json response. When the response has already
 * started, a clean error answer is impossible, so the connection is closed instead: the client
 * sees a truncated response rather than a wrong one.
 */
export function writeProblem(res: ServerResponse, err: GatewayError, instance: string, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problemBody(err, instance, requestId));
  res.statusCode = err.status;
  res.setHeader('content-type', 'application/problem+json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-request-id', requestId);
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.end(body);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/**
 * For connections that have no ServerResponse (refused upgrades, unparsable requests): writes a
 * complete problem+json HTTP response on the socket and closes it.
 */
export function writeProblemToSocket(socket: { writable: boolean; end(data: string, done?: () => void): void; destroy(): void }, err: GatewayError, instance: string, requestId: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problemBody(err, instance, requestId));
  const extra = Object.entries(err.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${err.status} ${REASONS[err.status] ?? 'Error'}\r\n` +
      'content-type: application/problem+json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\n${extra}` +
      'connection: close\r\n\r\n' +
      body,
    // Closed for good once written: node's sockets allow half-open connections, and a client that
    // never closes its side (a slowloris client) would otherwise hold the connection.
    () => socket.destroy(),
  );
}
