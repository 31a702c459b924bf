import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/catalog';

/**
 * A Host value as RFC 9110 §7.2 allows it: a registered name (RFC 3986 reg-name characters) or an
 * IP literal in brackets, then an optional port. `@`, `#`, `/`, `\`, `?` and spaces are refused:
 * a proxy or WAF in front may read such a value as a different host than the one that routes here.
 */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]{0,5})?$/;

/** Refusals close the connection: after a framing doubt, nothing else on it can be trusted. */
const CLOSE = { connection: 'close' } as const;

function badRequest(detail: string): GatewayError {
  return new GatewayError('GW_BAD_REQUEST', detail, CLOSE);
}

/** How many times the client sent a Host header (node keeps only the first in `req.headers`). */
function hostHeaderCount(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}

/**
 * The checks of a request's framing that node's parser leaves to the server, run before any route
 * is looked up: what two parties in a chain could read differently must not reach a service.
 * - A request line without `HTTP/1.x` (HTTP/0.9, or a bare LF inside the target, after which node
 *   reads the rest of the line as a header): 400.
 * - No Host on HTTP/1.1, more than one Host, or a Host with characters no host name has
 *   (RFC 9112 §3.2: a server MUST answer 400).
 * - A transfer coding other than `chunked` (`gzip, chunked`): the gateway would have to decode it
 *   and does not, so 501 (RFC 9112 §6.1), rather than passing bytes whose coding was dropped.
 * Returns undefined for a request that passes; the common case costs a few comparisons.
 */
export function framingRefusal(req: IncomingMessage): GatewayError | undefined {
  if (req.httpVersionMajor !== 1) {
    return badRequest('The request line must end with HTTP/1.0 or HTTP/1.1 (a line break inside the request target is refused)');
  }
  const host = req.headers.host;
  if (host === undefined) {
    if (req.httpVersionMinor >= 1) return badRequest('An HTTP/1.1 request needs a Host header');
  } else {
    if (hostHeaderCount(req.rawHeaders) > 1) return badRequest('The request has more than one Host header');
    if (!VALID_HOST.test(host)) return badRequest('The Host header is not a host name or address with an optional port');
  }
  const coding = req.headers['transfer-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
    return new GatewayError('GW_UNSUPPORTED_TRANSFER_CODING', `Transfer-Encoding "${coding}" is not supported; send the body with chunked alone or with Content-Length`, CLOSE);
  }
  return undefined;
}
