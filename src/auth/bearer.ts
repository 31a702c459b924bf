import { GatewayError } from '../errors/catalog';

/**
 * RFC 6750 on the wire: reading `Authorization: Bearer <token>` and the `WWW-Authenticate`
 * challenge of every refusal, so a client can tell "send a token" from "this token is refused" from
 * "your token lacks a role" without parsing the body.
 */
export const REALM = 'tracseq';

/** RFC 6750 §2.1: the scheme (any case), one or more spaces, then a token68. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * error_description allows printable ASCII except `"` and `\` (RFC 6750 §3); anything else in a
 * detail (a claim value echoed back, say) is replaced rather than allowed to break the header.
 */
function quotable(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}

export function challenge(error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope', description?: string): string {
  if (error === undefined) return `Bearer realm="${REALM}"`;
  const desc = description === undefined ? '' : `, error_description="${quotable(description)}"`;
  return `Bearer realm="${REALM}", error="${error}"${desc}`;
}

/** No credentials at all: the challenge carries no error code (RFC 6750 §3.1). */
export function credentialsRequired(): GatewayError {
  return new GatewayError('GW_UNAUTHORIZED', 'This route requires a bearer token: send Authorization: Bearer <token>', {
    'www-authenticate': challenge(),
  });
}

export function invalidToken(detail: string): GatewayError {
  return new GatewayError('GW_INVALID_TOKEN', detail, { 'www-authenticate': challenge('invalid_token', detail) });
}

export function insufficientRole(detail: string): GatewayError {
  return new GatewayError('GW_FORBIDDEN', detail, { 'www-authenticate': challenge('insufficient_scope', detail) });
}

/**
 * The token of an Authorization header, or undefined when there is no header. A header that is not
 * `Bearer <token>` throws a 401: it is answered like a missing token (the client must send a
 * bearer token), with `invalid_request` saying what was wrong with the one it sent.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = BEARER.exec(header);
  if (m !== null) return m[1];
  const scheme = /^\S+/.exec(header)?.[0] ?? '';
  const detail =
    scheme.toLowerCase() === 'bearer'
      ? 'The Authorization header must be "Bearer <token>" with one token of base64url characters'
      : `The Authorization header uses the ${scheme ? `"${scheme.slice(0, 20)}"` : 'empty'} scheme; this gateway accepts "Bearer <token>" only`;
  throw new GatewayError('GW_UNAUTHORIZED', detail, { 'www-authenticate': challenge('invalid_request', detail) });
}
