import { GatewayError } from '../errors/catalog';

/**
 * What an undici failure means, in one place for every caller of an upstream (the proxy, the
 * auth service client, the health checks): its code, what kind of failure that is, and the
 * gateway's answer for it.
 */

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT', 'UND_ERR_CONNECT_TIMEOUT']);
const RESETS = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** The error's code (undici's `UND_ERR_*` or the system's `E*`), or of its cause; '' when none. */
export function upstreamErrorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  return String(e?.code ?? e?.cause?.code ?? '');
}

/** Maps an undici failure that happened before any response byte to the gateway's answer. */
export function upstreamFailure(err: unknown, service: string, timeoutMs: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = upstreamErrorCode(err);
  if (TIMEOUTS.has(code)) {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', `Service "${service}" did not answer within ${timeoutMs} ms`);
  }
  if (CONNECT_FAILURES.has(code)) {
    return new GatewayError('GW_UPSTREAM_UNAVAILABLE', `Service "${service}" could not be reached (${code})`);
  }
  if (RESETS.has(code)) {
    return new GatewayError('GW_UPSTREAM_RESET', `Service "${service}" closed the connection before answering`);
  }
  return new GatewayError('GW_UPSTREAM_ERROR', `The request to service "${service}" failed (${code || 'unknown error'})`);
}

/** The connection failed or was reset before an answer: another instance may well answer. */
export function isConnectionFailure(code: string): boolean {
  return CONNECT_FAILURES.has(code) || RESETS.has(code);
}
