import { Writable } from 'node:stream';
import { writeAccessLine } from '../../../src/observability/access-log';
import { createLogger, LineWriter } from '../../../src/observability/logger';
import type { GatewayRequest } from '../../../src/pipeline/types';

/** The access lines written for `requests`, parsed, through the writer the gateway uses. */
function linesFor(...requests: [GatewayRequest, number][]): Record<string, unknown>[] {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const writer = new LineWriter(createLogger('info', stream));
  for (const [req, status] of requests) writeAccessLine(writer, req, status);
  writer.flush();
  const text = Buffer.concat(chunks).toString();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function lineFor(req: GatewayRequest, status: number): Record<string, unknown> {
  return linesFor([req, status])[0];
}

/** The fields accessLine reads, as a finished proxied request has them. */
function finished(url: string, overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    url,
    method: 'GET',
    id: 'req-1',
    trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), flags: '01', traceparent: '' },
    clientSocket: { bytesRead: 300, bytesWritten: 900 },
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
    const line = lineFor(finished('/samples/list?token=secret'), 200);
    expect(line).toMatchObject({
      level: 'info',
      message: 'request',
      requestId: 'req-1',
      method: 'GET',
      path: '/samples/list',
      route: 'samples',
      upstream: 'http://127.0.0.1:8081',
      status: 200,
      bytesIn: 300,
      bytesOut: 900,
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
    expect(lineFor(finished(path), 404).path).toBe(path);
  });

  it('stamps the current time in ISO 8601 with milliseconds, across second boundaries', async () => {
    for (let i = 0; i < 6; i++) {
      const before = Date.now();
      const stamp = lineFor(finished('/s'), 200).timestamp as string;
      const after = Date.now();
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const at = Date.parse(stamp);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
      await new Promise((r) => setTimeout(r, 230));
    }
  });
});

describe('access line fields', () => {
  it('counts the bytes of each request on one connection since the previous line', () => {
    const connection = { bytesRead: 120, bytesWritten: 700 };
    const first = finished('/a', { clientSocket: connection } as Partial<GatewayRequest>);
    const [one] = linesFor([first, 200]);
    Object.assign(connection, { bytesRead: 200, bytesWritten: 1500 });
    const [two] = linesFor([finished('/b', { clientSocket: connection } as Partial<GatewayRequest>), 200]);
    expect([one.bytesIn, one.bytesOut, two.bytesIn, two.bytesOut]).toEqual([120, 700, 80, 800]);
  });

  it('writes the duration in milliseconds with two decimals, and numbers as numbers', () => {
    const startedAt = performance.now() - 1234.567;
    const line = lineFor(finished('/d', { startedAt, retries: 12 }), 503);
    expect(line.durationMs).toBeGreaterThanOrEqual(1234.56);
    expect(line.durationMs).toBeLessThan(1234.57 + 50);
    expect(Math.round((line.durationMs as number) * 100)).toBeCloseTo((line.durationMs as number) * 100, 6);
    expect([line.retries, line.status]).toEqual([12, 503]);
  });

  it('names the route, its service and rate-limit key, the user, and stays valid for odd client text', () => {
    const route = { name: 'r"1', service: { name: 'svc' }, config: { rateLimit: { enabled: true, key: 'header:X-Api-Key' } } };
    const line = lineFor(finished('/u', { gatewayRoute: route, user: { sub: 'ünïcode "user"' }, clientIp: 'fe80::1%eth0' } as unknown as Partial<GatewayRequest>), 201);
    expect(line).toMatchObject({ route: 'r"1', service: 'svc', rateLimitKey: 'header:X-Api-Key', user: 'ünïcode "user"', clientIp: 'fe80::1%eth0' });
  });

  it('writes lines for requests no route matched, and many lines past one chunk in order', () => {
    const many: [GatewayRequest, number][] = [];
    for (let i = 0; i < 400; i++) many.push([finished(`/p/${i}/${'x'.repeat(200)}`, { id: `id-${i}`, gatewayRoute: undefined, upstream: undefined }), 404]);
    const lines = linesFor(...many);
    expect(lines.map((l) => l.requestId)).toEqual(many.map(([req]) => req.id));
    expect(lines[0]).toMatchObject({ route: null, service: null, upstream: null, rateLimitKey: null, status: 404 });
  });
});
