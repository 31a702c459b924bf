import { accessLine } from '../../../src/observability/access-log';
import type { GatewayRequest } from '../../../src/pipeline/types';

/** The fields accessLine reads, as a finished proxied request has them. */
function finished(url: string, overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    url,
    method: 'GET',
    id: 'req-1',
    trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), flags: '01', traceparent: '' },
    socket: { bytesRead: 300, bytesWritten: 900 },
    bytesReadAtStart: 100,
    bytesWrittenAtStart: 400,
    startedAt: performance.now(),
    gatewayRoute: { name: 'samples', service: { name: 'samples' }, config: { rateLimit: { enabled: false } } },
    upstream: { url: 'http://127.0.0.1:8081' },
    retries: 0,
    clientIp: '10.0.0.7',
    user: undefined,
    ...overrides,
  } as unknown as GatewayRequest;
}

describe('access line', () => {
  it('is one JSON object with the documented fields, the path without its query', () => {
    const line = JSON.parse(accessLine(finished('/samples/list?token=secret'), 200));
    expect(line).toMatchObject({
      level: 'info',
      message: 'request',
      requestId: 'req-1',
      method: 'GET',
      path: '/samples/list',
      route: 'samples',
      upstream: 'http://127.0.0.1:8081',
      status: 200,
      bytesIn: 200,
      bytesOut: 500,
      clientIp: '10.0.0.7',
      user: null,
    });
  });

  it.each([
    ['quotes and backslashes', '/samples/a"b\\c'],
    ['control characters', '/samples/\u0001\u001f'],
    ['non-ASCII text', '/samples/épreuve/試料'],
    ['a lone surrogate', '/samples/\ud800x'],
  ])('stays valid JSON for a path with %s', (_name, path) => {
    expect(JSON.parse(accessLine(finished(path), 404)).path).toBe(path);
  });

  it('stamps the current time in ISO 8601 with milliseconds, across second boundaries', async () => {
    for (let i = 0; i < 6; i++) {
      const before = Date.now();
      const stamp = JSON.parse(accessLine(finished('/s'), 200)).timestamp as string;
      const after = Date.now();
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const at = Date.parse(stamp);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
      await new Promise((r) => setTimeout(r, 230));
    }
  });
});
