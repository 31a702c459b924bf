/**
 * Every error the gateway itself answers with, in one place: a stable code, its HTTP status, a
 * title, and the `error_type` label it is counted under. The README's error table is checked
 * against this list by a test, so the two never drift apart.
 */
export const ERROR_CATALOG = {
  GW_NOT_FOUND: { status: 404, title: 'No route matches this path', type: 'not_found' },
  GW_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this route', type: 'method_not_allowed' },
  GW_BAD_PATH: { status: 400, title: 'Path refused', type: 'bad_path' },
  GW_BAD_REQUEST: { status: 400, title: 'Malformed request', type: 'bad_request' },
  GW_EXPECTATION_FAILED: { status: 417, title: 'Expectation not supported', type: 'expectation_failed' },
  GW_UNSUPPORTED_TRANSFER_CODING: { status: 501, title: 'Transfer coding not implemented', type: 'unsupported_transfer_coding' },
  GW_PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large', type: 'too_large' },
  GW_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large', type: 'headers_too_large' },
  GW_REQUEST_TIMEOUT: { status: 408, title: 'Client did not send the request in time', type: 'client_timeout' },
  GW_UNAUTHORIZED: { status: 401, title: 'Bearer token required', type: 'unauthorized' },
  GW_INVALID_TOKEN: { status: 401, title: 'Bearer token refused', type: 'invalid_token' },
  GW_FORBIDDEN: { status: 403, title: 'Role required', type: 'forbidden' },
  GW_AUTH_UNAVAILABLE: { status: 503, title: 'Authentication unavailable', type: 'auth_unavailable' },
  GW_ORIGIN_DENIED: { status: 403, title: 'Origin not allowed', type: 'origin_denied' },
  GW_IP_DENIED: { status: 403, title: 'Client address not allowed', type: 'ip_denied' },
  GW_RATE_LIMITED: { status: 429, title: 'Rate limit exceeded', type: 'rate_limited' },
  GW_RATE_LIMIT_UNAVAILABLE: { status: 503, title: 'Rate limiting unavailable', type: 'rate_limit_unavailable' },
  GW_VALIDATION_FAILED: { status: 400, title: 'Request body does not match the schema', type: 'validation_failed' },
  GW_INVALID_JSON: { status: 400, title: 'Request body is not valid JSON', type: 'invalid_json' },
  GW_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Content type not accepted', type: 'unsupported_media_type' },
  GW_OVERLOADED: { status: 503, title: 'Gateway at its concurrency limit', type: 'overloaded' },
  GW_CLIENT_OVERLOADED: { status: 429, title: 'Too many requests in flight from this client', type: 'client_overloaded' },
  GW_NO_HEALTHY_INSTANCE: { status: 503, title: 'No healthy upstream instance', type: 'no_healthy_instance' },
  GW_UPSTREAM_UNAVAILABLE: { status: 502, title: 'Upstream refused the connection', type: 'connection_refused' },
  GW_UPSTREAM_RESET: { status: 502, title: 'Upstream closed the connection', type: 'reset' },
  GW_UPSTREAM_ERROR: { status: 502, title: 'Upstream request failed', type: 'upstream_error' },
  GW_UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream did not answer in time', type: 'timeout' },
  GW_ADMIN_UNAUTHORIZED: { status: 401, title: 'Admin token required', type: 'admin_unauthorized' },
  GW_INTERNAL: { status: 500, title: 'Internal gateway error', type: 'internal' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** A failure a stage hands to `next(err)`; the one error exit turns it into problem+json. */
export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
    /** Extension members of the problem body (RFC 9457 §3.2), e.g. the validation errors. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
    this.name = 'GatewayError';
    this.status = ERROR_CATALOG[code].status;
  }
}
