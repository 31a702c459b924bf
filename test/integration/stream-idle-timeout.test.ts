import { request as httpRequest, IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { rawRequest, waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';
import { labClaims, mint, SECRET } from '../helpers/tokens';

/**
 * route.streamIdleTimeout against a real server-sent-events upstream: the route's `timeout` bounds
 * the wait for the head only, the idle timeout the silence between events, and what ended a stream
 * is recorded as it happened (access log status and outcome, request metrics).
 */
let sse: TestUpstream;
let gw: RunningGateway;
const token = mint(labClaims(), SECRET, 'HS256');

/** An event stream: one event at once, then `quietMs` of silence, then one more and the end. */
function events(req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.includes('flood')) {
    // Events faster than any reader that does not read: the gateway's answer pauses.
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = `data: ${'x'.repeat(64 * 1024)}\n\n`;
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
    return;
  }
  const quietMs = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('quiet') ?? '0');
  let uploaded = 0;
  req.on('data', (c: Buffer) => (uploaded += c.length));
  // A POST's stream starts once its whole body has arrived, and first says how much that was.
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(req.method === 'POST' ? `data: got ${uploaded}\n\n` : 'data: first\n\n');
    const timer = setTimeout(() => res.end('data: last\n\n'), quietMs);
    res.on('close', () => clearTimeout(timer));
  });
}

beforeAll(async () => {
  sse = await startUpstream(events);
  gw = await startGateway(
    configFrom(`
version: 1
auth:
  jwt: { secret: ${JSON.stringify(SECRET)}, algorithms: [HS256] }
services:
  sse: { instances: ["${sse.url}"] }
routes:
  - name: events
    path: /events
    service: sse
    timeout: 1s
    streamIdleTimeout: 10s
    auth: { required: true, tokenFrom: { query: [access_token] } }
  - { name: impatient, path: /impatient, service: sse, timeout: 1s, streamIdleTimeout: 1s }
`),
  );
});

afterAll(async () => {
  await gw?.stop();
  await sse?.close();
});

interface Watched {
  status: number;
  text: string;
  /** How the client's connection ended: the answer complete, or closed under it. */
  ended: 'complete' | 'closed';
}

function watch(path: string, id: string, leaveAfterMs?: number): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.url}${path}`, { headers: { accept: 'text/event-stream', 'x-request-id': id }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ended: 'complete' }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, text, ended: 'closed' }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, text, ended: 'closed' }));
      if (leaveAfterMs !== undefined) {
        setTimeout(() => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text, ended: 'closed' });
        }, leaveAfterMs);
      }
    });
    req.on('error', reject);
    req.end();
  });
}

async function accessLine(id: string): Promise<Record<string, unknown>> {
  await waitFor(() => gw.logs().some((l) => l.message === 'request' && l.requestId === id), 3000, `access line of ${id}`);
  return gw.logs().find((l) => l.message === 'request' && l.requestId === id)!;
}

async function requestCount(route: string, status: number): Promise<number> {
  const text = (await rawRequest(`${gw.url}/metrics`)).body;
  const line = text.split('\n').find((l) => l.startsWith('gateway_requests_total{') && l.includes(`route="${route}"`) && l.includes(`status="${status}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('a quiet server-sent-events stream', () => {
  it('stays open for 3 s of silence with a 1 s route timeout and a 10 s idle timeout (token in the query)', async () => {
    const started = Date.now();
    const got = await watch(`/events/feed?quiet=3000&access_token=${token}`, 'sse-quiet');
    expect(got).toEqual({ status: 200, text: 'data: first\n\ndata: last\n\n', ended: 'complete' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    const line = await accessLine('sse-quiet');
    expect(line).toMatchObject({ status: 200, path: '/events/feed', user: 'user-42' });
    expect(line.outcome).toBeUndefined();
    expect(sse.received.filter((r) => r.url?.startsWith('/events')).at(-1)?.url).toBe('/events/feed?quiet=3000');
  });

  it('stays open after a chunked upload too: the idle time starts with the answer', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/events/feed?quiet=2500&access_token=${token}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(40_000, 1));
      setTimeout(() => req.end(Buffer.alloc(25_000, 2)), 300);
    });
    expect(got).toBe('data: got 65000\n\ndata: last\n\n');
  });
});

describe('the idle timeout', () => {
  it('closes a stream quiet for longer than streamIdleTimeout, recorded as 504 upstream_idle_timeout, not 499', async () => {
    const before = await requestCount('impatient', 504);
    const started = Date.now();
    const got = await watch('/impatient/feed?quiet=4000', 'sse-idle');
    const took = Date.now() - started;
    expect(got.status).toBe(200);
    expect(got.text).toBe('data: first\n\n');
    expect(got.ended).toBe('closed');
    // undici's timers tick in ~0.5 s steps and may fire up to that much early.
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(3500);
    expect(await accessLine('sse-idle')).toMatchObject({ status: 504, outcome: 'upstream_idle_timeout' });
    expect(await requestCount('impatient', 504)).toBe(before + 1);
  });
});

describe('a client that leaves', () => {
  it('is recorded as 499, with no outcome of the gateway', async () => {
    const before = await requestCount('events', 499);
    const got = await watch(`/events/feed?quiet=5000&access_token=${token}`, 'sse-leave', 300);
    expect(got.text).toBe('data: first\n\n');
    const line = await accessLine('sse-leave');
    expect(line.status).toBe(499);
    expect(line.outcome).toBeUndefined();
    expect(await requestCount('events', 499)).toBe(before + 1);
  });
});

describe('a client that does not read', () => {
  it('is still cut after the route timeout plus a second, however long the idle timeout, recorded as 499 client_too_slow', async () => {
    const socket = connect(gw.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const started = Date.now();
    socket.write(`GET /events/flood?access_token=${token} HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: sse-slow-reader\r\n\r\n`);
    socket.pause();
    try {
      const line = await accessLine('sse-slow-reader');
      expect(line).toMatchObject({ status: 499, outcome: 'client_too_slow' });
      expect(Date.now() - started).toBeLessThan(6000); // 1 s + 1 s, far from the 10 s idle timeout
    } finally {
      socket.destroy();
    }
  });
});
