import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import request from 'supertest';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { rawRequest, waitFor } from '../helpers/http';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * The proxy path through real sockets: one gateway, a few upstreams whose behaviour each test
 * controls through the request path.
 */
type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;
const behaviours = new Map<string, Behaviour>();
let upstream: TestUpstream;
let gw: RunningGateway;
let deadPort: number;

function echo(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (c: Buffer) => {
    bytes += c.length;
    hash.update(c);
  });
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bytes, sha256: hash.digest('hex') }));
  });
}

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const key = [...behaviours.keys()].find((k) => req.url?.startsWith(k));
    (key ? behaviours.get(key)! : echo)(req, res);
  });
  deadPort = await closedPort();
  gw = await startGateway(
    configFrom(`
version: 1
gateway: { maxConcurrentRequests: 3 }
services:
  up: { instances: ["${upstream.url}"] }
  dead: { instances: ["http://127.0.0.1:${deadPort}"] }
routes:
  - { name: api, path: /api, service: up, rewrite: /v1 }
  - { name: small, path: /small, service: up, rewrite: /v1, maxBodySize: 1kb }
  - { name: big, path: /big, service: up, rewrite: /v1, maxBodySize: 100mb }
  - { name: slow, path: /slow, service: up, rewrite: /v1/slow, timeout: 300ms, streamIdleTimeout: 1s }
  - { name: dead, path: /dead, service: dead }
  - { name: readonly, path: /readonly, service: up, methods: [GET, HEAD] }
`),
  );
});

afterAll(async () => {
  await gw.stop();
  await upstream.close();
});

afterEach(() => behaviours.clear());

/** Requests the upstream received after the first `since`, leaving out the gateway's own health probes. */
function proxiedSince(since: number): string[] {
  return upstream.received
    .slice(since)
    .filter((r) => r.headers['user-agent'] !== 'tracseq-gateway-health')
    .map((r) => `${r.method} ${r.url}`);
}

describe('request and response headers', () => {
  it('sets X-Forwarded-*, keeps a valid X-Request-Id and returns it', async () => {
    const res = await request(gw.url).get('/api/x').set('x-request-id', 'lab-run-42').set('host', 'gw.example.org');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('lab-run-42');
    expect(res.body.headers['x-request-id']).toBe('lab-run-42');
    expect(res.body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(res.body.headers['x-forwarded-proto']).toBe('http');
    expect(res.body.headers['x-forwarded-host']).toBe('gw.example.org');
  });

  it('generates a request id when the client sends none or an unsafe one', async () => {
    const a = await request(gw.url).get('/api/x');
    const b = await request(gw.url).get('/api/x').set('x-request-id', 'bad id with spaces');
    for (const res of [a, b]) {
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.headers['x-request-id']).toBe(res.headers['x-request-id']);
    }
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('continues a W3C trace with a new parent span, or starts one', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const continued = await request(gw.url).get('/api/x').set('traceparent', incoming);
    const [v, trace, span, flags] = continued.body.headers.traceparent.split('-');
    expect([v, trace, flags]).toEqual(['00', '4bf92f3577b34da6a3ce929d0e0e4736', '01']);
    expect(span).toMatch(/^[0-9a-f]{16}$/);
    expect(span).not.toBe('00f067aa0ba902b7');
    const started = await request(gw.url).get('/api/x').set('traceparent', 'garbage');
    expect(started.body.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(started.body.headers.traceparent).not.toContain('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('drops hop-by-hop request headers, including those named by Connection', async () => {
    const res = await rawRequest(`${gw.url}/api/x`, {
      headers: { connection: 'keep-alive, x-hop-secret', 'x-hop-secret': '1', te: 'trailers', 'proxy-authorization': 'Basic x', 'x-kept': 'yes' },
    });
    const seen = JSON.parse(res.body).headers;
    expect(seen['x-kept']).toBe('yes');
    for (const h of ['x-hop-secret', 'te', 'proxy-authorization']) expect(seen[h]).toBeUndefined();
  });

  it('drops hop-by-hop response headers and keeps repeated ones', async () => {
    behaviours.set('/v1/hop', (_req, res) => {
      res.setHeader('connection', 'x-upstream-hop');
      res.setHeader('x-upstream-hop', 'secret');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('ok');
    });
    const res = await rawRequest(`${gw.url}/api/hop`);
    expect(res.body).toBe('ok');
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    expect(res.headers['keep-alive']).not.toBe('timeout=5');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('extends X-Forwarded-For from a trusted proxy (loopback is trusted by default)', async () => {
    const res = await request(gw.url).get('/api/x').set('x-forwarded-for', '203.0.113.7');
    expect(res.body.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });
});

describe('paths, queries and methods', () => {
  it('passes the raw query string and path encoding through untouched', async () => {
    const res = await rawRequest(`${gw.url}/api/a%2Fb%20c/%C3%A9?q=a%20b&r=c+d&e=%2e%2e&empty=&flag`);
    expect(JSON.parse(res.body).url).toBe('/v1/a%2Fb%20c/%C3%A9?q=a%20b&r=c+d&e=%2e%2e&empty=&flag');
  });

  it.each([
    ['raw dot segments', '/api/../readonly'],
    ['encoded dot segments', '/api/%2e%2e/readonly'],
    ['encoded slash and dots', '/api/x%2F..%2F..%2Freadonly'],
  ])('refuses %s with 400 problem+json before any upstream call', async (_name, path) => {
    const before = upstream.received.length;
    const res = await rawRequest(`${gw.url}${path}`, { path });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'GW_BAD_PATH', requestId: res.headers['x-request-id'] });
    expect(proxiedSince(before)).toEqual([]);
  });

  it('answers 405 with Allow when the path matches but the method does not', async () => {
    const res = await request(gw.url).delete('/readonly/1');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ code: 'GW_METHOD_NOT_ALLOWED', status: 405, instance: '/readonly/1' });
  });

  it('answers 404 problem+json with the request id when no route matches', async () => {
    const res = await request(gw.url).get('/nowhere?x=1').set('x-request-id', 'req-404');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      type: 'https://tracseq.dev/problems/not-found',
      title: 'No route matches this path',
      status: 404,
      detail: expect.stringContaining('/nowhere'),
      instance: '/nowhere',
      requestId: 'req-404',
      code: 'GW_NOT_FOUND',
    });
  });
});

describe('bodies stream both ways', () => {
  it('relays a 50 MB upload byte-exact (chunked, never buffered whole)', async () => {
    const chunk = randomBytes(1024 * 1024);
    const expected = createHash('sha256');
    const result = await new Promise<{ status: number; body: { bytes: number; sha256: string } }>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/big/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 50) {
          sent++;
          expected.update(chunk);
          if (!req.write(chunk)) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(result.status).toBe(200);
    expect(result.body.bytes).toBe(50 * 1024 * 1024);
    expect(result.body.sha256).toBe(expected.digest('hex'));
  });

  it('delivers server-sent events before the upstream ends the response', async () => {
    let finish: () => void = () => undefined;
    behaviours.set('/v1/events', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      finish = () => res.end('data: last\n\n');
    });
    const firstEvent = await new Promise<{ text: string; ended: Promise<string> }>((resolve, reject) => {
      httpRequest(`${gw.url}/api/events`, (res) => {
        let all = '';
        const ended = new Promise<string>((r) => res.on('end', () => r(all)));
        res.on('data', (c: Buffer) => {
          all += c.toString();
          if (all.includes('first')) resolve({ text: all, ended });
        });
      })
        .on('error', reject)
        .end();
    });
    expect(firstEvent.text).toBe('data: first\n\n');
    finish();
    await expect(firstEvent.ended).resolves.toBe('data: first\n\ndata: last\n\n');
  });
});

describe('failures map to statuses', () => {
  it('502 GW_UPSTREAM_UNAVAILABLE when the instance refuses the connection', async () => {
    const res = await request(gw.url).get('/dead/x');
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'GW_UPSTREAM_UNAVAILABLE', status: 502, requestId: res.headers['x-request-id'] });
  });

  it('504 GW_UPSTREAM_TIMEOUT when no response headers come within the route timeout', async () => {
    behaviours.set('/v1/slow', () => undefined);
    const started = Date.now();
    const res = await request(gw.url).get('/slow');
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('GW_UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('502 GW_UPSTREAM_RESET when the upstream drops the connection before answering', async () => {
    behaviours.set('/v1/reset', (req) => req.socket.destroy());
    const res = await request(gw.url).get('/api/reset');
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('GW_UPSTREAM_RESET');
  });

  it('503 GW_OVERLOADED with Retry-After above maxConcurrentRequests', async () => {
    const held: ServerResponse[] = [];
    behaviours.set('/v1/hold', (_req, res) => held.push(res));
    const pending = [1, 2, 3].map(() => rawRequest(`${gw.url}/api/hold`));
    await waitFor(() => held.length === 3, 3000, 'three held requests');
    const res = await request(gw.url).get('/api/x');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.code).toBe('GW_OVERLOADED');
    for (const r of held) r.end('done');
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await request(gw.url).get('/api/x')).status).toBe(200);
  });

  it('413 by Content-Length before contacting the upstream', async () => {
    const before = upstream.received.length;
    const res = await request(gw.url).post('/small/x').set('content-type', 'text/plain').send('x'.repeat(2048));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('GW_PAYLOAD_TOO_LARGE');
    expect(proxiedSince(before)).toEqual([]);
  });

  it('413 by counting a chunked body as it streams', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/small/x`, { method: 'POST' }, (r) => {
        let body = '';
        r.on('data', (c) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('x'.repeat(600));
      setTimeout(() => req.end('y'.repeat(600)), 50);
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).code).toBe('GW_PAYLOAD_TOO_LARGE');
  });

  it('a client going away aborts the upstream request', async () => {
    let upstreamClosed = false;
    behaviours.set('/v1/abandon', (_req, res) => {
      res.on('close', () => (upstreamClosed = true));
    });
    const client = httpRequest(`${gw.url}/api/abandon`);
    client.on('error', () => undefined);
    client.end();
    await waitFor(() => upstream.received.some((r) => r.url === '/v1/abandon'), 3000, 'upstream request');
    client.destroy();
    await waitFor(() => upstreamClosed, 3000, 'upstream close');
    expect(upstreamClosed).toBe(true);
  });

  it('502 for an upstream answer with a control character in a header value, and the gateway goes on', async () => {
    // A raw TCP upstream: node's own server would refuse to send such a header.
    const raw = createTcpServer((socket) => {
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Bad: a\x01b\r\n\r\nok'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const bad = await startGateway(
      configFrom(`version: 1
services:
  raw: { instances: ["http://127.0.0.1:${(raw.address() as AddressInfo).port}"], healthCheck: { enabled: false } }
routes:
  - { name: raw, path: /raw, service: raw }
`),
    );
    try {
      const res = await request(bad.url).get('/raw');
      expect(res.status).toBe(502);
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
      expect((await request(bad.url).get('/health')).status).toBe(200);
    } finally {
      await bad.stop();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('an upstream dying mid-response closes the client connection', async () => {
    behaviours.set('/v1/die', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const outcome = await new Promise<string>((resolve) => {
      httpRequest(`${gw.url}/api/die`, (res) => {
        res.on('data', () => undefined);
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('error'));
        res.on('end', () => resolve('ended cleanly'));
      })
        .on('error', () => resolve('error'))
        .end();
    });
    expect(['aborted', 'error']).toContain(outcome);
  });

  it("an upstream that stops sending mid-body closes the client connection once the route's streamIdleTimeout passes without a byte", async () => {
    behaviours.set('/v1/slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('partial'); // and nothing more, with the connection left open
    });
    const started = Date.now();
    const outcome = await new Promise<{ how: string; body: string }>((resolve) => {
      let body = '';
      httpRequest(`${gw.url}/slow`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('aborted', () => resolve({ how: 'aborted', body }));
        res.on('error', () => resolve({ how: 'error', body }));
        res.on('end', () => resolve({ how: 'ended cleanly', body }));
      })
        .on('error', () => resolve({ how: 'error', body }))
        .end();
    });
    expect(['aborted', 'error']).toContain(outcome.how);
    expect(outcome.body).toBe('partial');
    // Silence mid-body is allowed for the route's streamIdleTimeout (1 s), on undici's ~0.5 s clock.
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('431 problem+json for a header section over the limit', async () => {
    const res = await new Promise<string>((resolve) => {
      const socket = connect(gw.port, '127.0.0.1', () => {
        socket.write(`GET /api/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(res).toMatch(/^HTTP\/1.1 431 /);
    expect(res).toContain('"code":"GW_HEADERS_TOO_LARGE"');
    expect(res).toMatch(/x-request-id: [0-9a-f-]{36}/);
  });
});

describe('access log', () => {
  it('writes one JSON line per request with the documented fields', async () => {
    await request(gw.url).get('/api/logged?secret=1').set('x-request-id', 'log-line-1');
    await waitFor(() => gw.logs().some((l) => l.requestId === 'log-line-1'), 2000, 'access line');
    const line = gw.logs().find((l) => l.requestId === 'log-line-1')!;
    expect(line).toMatchObject({
      level: 'info',
      message: 'request',
      method: 'GET',
      path: '/api/logged',
      route: 'api',
      service: 'up',
      upstream: upstream.url,
      status: 200,
      clientIp: '127.0.0.1',
    });
    expect(typeof line.durationMs).toBe('number');
    expect(line.bytesOut).toBeGreaterThan(0);
    expect(line.timestamp).toEqual(expect.any(String));
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
  it("counts each request's own bytes on a keep-alive connection, and logs requests with a body", async () => {
    const socket = connect(gw.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    /** Sends one request and waits for its whole answer (Content-Length or chunked): both sizes in bytes. */
    const exchange = async (text: string): Promise<{ sent: number; answer: number }> => {
      received = Buffer.alloc(0);
      socket.write(text);
      let answer = 0;
      await waitFor(
        () => {
          const end = received.indexOf('\r\n\r\n');
          if (end === -1) return false;
          const head = received.subarray(0, end).toString('latin1');
          const length = /content-length: (\d+)/i.exec(head)?.[1];
          if (length !== undefined) answer = end + 4 + Number(length);
          else if (received.subarray(-5).toString('latin1') === '0\r\n\r\n') answer = received.length;
          else return false;
          return received.length >= answer;
        },
        2000,
        'the answer',
      );
      return { sent: Buffer.byteLength(text), answer };
    };
    const body = 'x'.repeat(1234);
    const post = await exchange(`POST /api/logged-post HTTP/1.1\r\nHost: t\r\nX-Request-Id: bytes-1\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const get = await exchange('GET /api/logged-get HTTP/1.1\r\nHost: t\r\nX-Request-Id: bytes-2\r\n\r\n');
    socket.destroy();
    await waitFor(() => gw.logs().filter((l) => l.requestId === 'bytes-1' || l.requestId === 'bytes-2').length === 2, 2000, 'both access lines');
    const first = gw.logs().find((l) => l.requestId === 'bytes-1')!;
    const second = gw.logs().find((l) => l.requestId === 'bytes-2')!;
    expect(first).toMatchObject({ method: 'POST', status: 200, bytesIn: post.sent, bytesOut: post.answer });
    expect(second).toMatchObject({ method: 'GET', status: 200, bytesIn: get.sent, bytesOut: get.answer });
  });
});
