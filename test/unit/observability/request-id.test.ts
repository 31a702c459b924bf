import { requestIdFrom, traceContextFrom } from '../../../src/observability/request-id';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('are random version 4 UUIDs, none repeated, across several refills of the random pool', () => {
    const ids = Array.from({ length: 5000 }, () => requestIdFrom(undefined));
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("keep a client's id when it is short and harmless, and replace anything else", () => {
    expect(requestIdFrom('lab-run-42')).toBe('lab-run-42');
    expect(requestIdFrom('has space')).toMatch(UUID_V4);
    expect(requestIdFrom('x'.repeat(129))).toMatch(UUID_V4);
    expect(requestIdFrom(['a', 'b'])).toMatch(UUID_V4);
  });
});

describe('trace context', () => {
  it('starts a new trace with random trace and span ids when none (or a malformed one) comes in', () => {
    const seen = new Set<string>();
    for (const header of [undefined, 'garbage', '00-00000000000000000000000000000000-b7ad6b7169203331-01']) {
      const t = traceContextFrom(header);
      expect(t.traceparent).toBe(`00-${t.traceId}-${t.spanId}-01`);
      expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(t.spanId).toMatch(/^[0-9a-f]{16}$/);
      seen.add(t.traceId).add(t.spanId);
    }
    expect(seen.size).toBe(6);
  });

  it('continues a valid incoming trace with a span of its own', () => {
    const t = traceContextFrom('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-00');
    expect(t.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(t.flags).toBe('00');
    expect(t.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(t.spanId).not.toBe('00f067aa0ba902b7');
  });
});
