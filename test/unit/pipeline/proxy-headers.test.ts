import { clientResponseHead, clientResponseHeaders, droppedResponseHeaders } from '../../../src/pipeline/proxy-headers';

/** Headers as undici hands them to a dispatch handler: name, value, ... as bytes, names as sent. */
function raw(...pairs: [string, string][]): Buffer[] {
  return pairs.flatMap(([name, value]) => [Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1')]);
}

/** A flat head as a list of "name: value" lines, in order. */
function lines(head: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.length; i += 2) out.push(`${head[i]}: ${head[i + 1]}`);
  return out;
}

const own = [
  ['x-frame-options', 'DENY'],
  ['x-content-type-options', 'nosniff'],
] as const;
const ownNames = new Set(['x-frame-options', 'x-content-type-options', 'x-request-id']);

describe('client response head (flat list)', () => {
  const dropped = droppedResponseHeaders().add('server');

  it('keeps the upstream headers lowercased and in order, then appends the gateway own headers and the request id', () => {
    const head = clientResponseHead(raw(['Content-Type', 'application/json'], ['X-Custom-Thing', 'a'], ['content-length', '2']), dropped, own, ownNames, 'req-1');
    expect(lines(head)).toEqual(['content-type: application/json', 'x-custom-thing: a', 'content-length: 2', 'x-frame-options: DENY', 'x-content-type-options: nosniff', 'x-request-id: req-1']);
  });

  it('drops hop-by-hop headers, the names the Connection header lists, and the route drop list', () => {
    const head = clientResponseHead(
      raw(['Connection', 'keep-alive, X-Upstream-Hop'], ['Keep-Alive', 'timeout=5'], ['X-Upstream-Hop', 'secret'], ['Transfer-Encoding', 'chunked'], ['Server', 'nginx/1.2'], ['X-Kept', 'yes']),
      dropped,
      [],
      new Set(['x-request-id']),
      'req-2',
    );
    expect(lines(head)).toEqual(['x-kept: yes', 'x-request-id: req-2']);
  });

  it('keeps every value of a repeated header on its own line', () => {
    const head = clientResponseHead(raw(['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']), dropped, [], new Set(['x-request-id']), 'r');
    expect(lines(head)).toEqual(['set-cookie: a=1', 'set-cookie: b=2', 'x-request-id: r']);
  });

  it("lets the upstream's own value win over the gateway's header of the same name, request id included", () => {
    const head = clientResponseHead(raw(['X-Frame-Options', 'SAMEORIGIN'], ['X-Request-Id', 'upstream-id']), dropped, own, ownNames, 'req-3');
    expect(lines(head)).toEqual(['x-frame-options: SAMEORIGIN', 'x-request-id: upstream-id', 'x-content-type-options: nosniff']);
  });

  it('gives the same headers as the object form used for routes with header edits', () => {
    const upstream = raw(['Content-Type', 'text/plain'], ['Connection', 'close, X-Hop'], ['X-Hop', '1'], ['Vary', 'a'], ['Vary', 'b'], ['X-Powered-By', 'php']);
    const flat = clientResponseHead(upstream, dropped.add('x-powered-by'), [], new Set(['x-request-id']), 'id');
    const object = clientResponseHeaders(upstream, dropped);
    expect(object).toEqual({ 'content-type': 'text/plain', vary: ['a', 'b'] });
    expect(lines(flat)).toEqual(['content-type: text/plain', 'vary: a', 'vary: b', 'x-request-id: id']);
  });
});
