import { request as httpRequest, IncomingMessage, ServerResponse } from 'node:http';
import { connect, Socket } from 'node:net';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { rawRequest, RawResponse, waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * Slow clients are the client's problem, never the instance's: a dripping upload or an answer
 * left unread does not open the circuit, and one address cannot take everybody's capacity.
 * Ordinary clients keep getting their 200s meanwhile.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BIG_ANSWER_BYTES = 32 * 1024 * 1024;

/** Echoes the body's length; `/big` answers 32 MB, written as fast as the gateway reads it. */
function upstreamHandler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.endsWith('/big')) {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG_ANSWER_BYTES) });
    const chunk = Buffer.alloc(64 * 1024, 'b');
    let sent = 0;
    const pump = (): void => {
      while (sent < BIG_ANSWER_BYTES) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => res.end(JSON.stringify({ bytes })));
}

async function setUp(gatewayBlock: string, serviceExtra = ''): Promise<{ gw: RunningGateway; upstream: TestUpstream }> {
  const upstream = await startUpstream(upstreamHandler);
  cleanups.push(() => upstream.close());
  const gw = await startGateway(
    configFrom(`
version: 1
gateway: ${gatewayBlock}
services:
  s:
    instances: ["${upstream.url}"]
    healthCheck: { enabled: false }
    circuitBreaker: { failureThreshold: 3, minimumRequests: 3, openFor: 30s }
    ${serviceExtra}
# Long enough that ordinary requests on a loaded machine never time out; short enough to be passed.
routes: [{ name: r, path: /r, service: s, timeout: 1s }]
`),
  );
  cleanups.push(() => gw.stop());
  return { gw, upstream };
}

/** An upload of `bytes` bytes, declared up front and sent one byte every `everyMs`. */
function dripUpload(gw: RunningGateway, bytes: number, everyMs: number, client = '192.0.2.10'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.url}/r/upload`, { method: 'POST', agent: false, headers: { 'content-type': 'text/plain', 'content-length': String(bytes), 'x-forwarded-for': client } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        clearInterval(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    let sent = 0;
    const timer = setInterval(() => {
      if (req.destroyed) return clearInterval(timer);
      req.write('a');
      if (++sent === bytes) {
        clearInterval(timer);
        req.end();
      }
    }, everyMs);
    cleanups.push(() => {
      clearInterval(timer);
      req.destroy();
    });
  });
}

/** Ordinary requests, one after another, until `stop()`; resolves with their statuses. */
function ordinaryTraffic(gw: RunningGateway, client = '198.51.100.2'): { stop(): Promise<number[]> } {
  const statuses: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = await rawRequest(`${gw.url}/r/ordinary`, { method: 'POST', body: '{"ok":1}', headers: { 'content-type': 'application/json', 'x-forwarded-for': client } });
      statuses.push(res.status);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return statuses;
    },
  };
}

function breakerOf(gw: RunningGateway) {
  return gw.server.current.services.get('s')!.instances[0].breaker;
}

describe('slow uploads', () => {
  it('12 clients dripping their bodies past the route timeout get 200s; the circuit stays closed and ordinary requests get 200', async () => {
    const { gw } = await setUp('{ requestTimeout: 30s }');
    const ordinary = ordinaryTraffic(gw);
    // 12 bytes, one every 200 ms: 2.4 s, longer than the route's 1 s and undici's 2 s.
    const drips = await Promise.all(Array.from({ length: 12 }, (_, i) => dripUpload(gw, 12, 200, `192.0.2.${i + 1}`)));
    const statuses = await ordinary.stop();
    expect(drips.map((d) => d.status)).toEqual(Array(12).fill(200));
    expect(drips.map((d) => JSON.parse(d.body).bytes)).toEqual(Array(12).fill(12));
    expect(statuses.length).toBeGreaterThan(3);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(breakerOf(gw).state).toBe('closed');
    expect(breakerOf(gw).consecutiveFailures).toBe(0);
  });

  it('a client that never finishes its upload ends with 408 at requestTimeout, not counted against the instance', async () => {
    const { gw } = await setUp('{ requestTimeout: 1s, headersTimeout: 1s }');
    // Node checks requestTimeout on its connection sweep, up to 30 s apart by default.
    const stalled = await dripUpload(gw, 1000, 100);
    expect(stalled.status).toBe(408);
    expect(JSON.parse(stalled.body)).toMatchObject({ code: 'GW_REQUEST_TIMEOUT' });
    expect(breakerOf(gw).consecutiveFailures).toBe(0);
    expect((await rawRequest(`${gw.url}/r/after`, { method: 'POST', body: 'x' })).status).toBe(200);
  }, 60_000);
});

describe('slow readers', () => {
  it('answers left unread hold no upstream connection past the body timeout and never open the circuit', async () => {
    // Two connections, both taken by clients that never read their 32 MB answer.
    const { gw, upstream } = await setUp('{}', 'connections: 2');
    const readers: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = connect(gw.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`GET /r/big HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: slow-reader-${i}\r\n\r\n`);
      socket.pause();
      readers.push(socket);
      cleanups.push(() => void socket.destroy());
    }
    await waitFor(() => upstream.received.filter((r) => r.url?.endsWith('/big')).length === 2, 3000, 'two big answers started');
    const ordinary = ordinaryTraffic(gw);
    // Cut after the route's timeout plus a second of not reading: the connections come free.
    await waitFor(() => ['slow-reader-0', 'slow-reader-1'].every((id) => gw.logs().some((l) => l.requestId === id && String(l.message).includes('stopped reading'))), 10_000, 'both slow readers cut');
    await new Promise((r) => setTimeout(r, 500));
    const statuses = await ordinary.stop();
    // While both connections were held, ordinary requests waited for one (504) without blaming
    // the instance; never a 503 from an open circuit; 200s once the readers were cut.
    expect(statuses.filter((s) => s !== 200 && s !== 504)).toEqual([]);
    expect(statuses.at(-1)).toBe(200);
    expect(breakerOf(gw).state).toBe('closed');
    expect(breakerOf(gw).consecutiveFailures).toBe(0);
  }, 20_000);
});

describe('requests in flight per client address', () => {
  it('one client with many slow uploads is capped with 429; another client still gets 200', async () => {
    const { gw } = await setUp('{ maxConcurrentRequestsPerClient: 3 }');
    const greedy = '203.0.113.7';
    const uploads = [1, 2, 3].map(() => dripUpload(gw, 10, 100, greedy));
    await waitFor(() => gw.server.inFlight === 3, 3000, 'three uploads in flight');
    const refused = await rawRequest(`${gw.url}/r/more`, { headers: { 'x-forwarded-for': greedy, 'x-request-id': 'greedy-4' } });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['x-request-id']).toBe('greedy-4');
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'GW_CLIENT_OVERLOADED', status: 429, requestId: 'greedy-4' });
    const other = await rawRequest(`${gw.url}/r/other`, { headers: { 'x-forwarded-for': '198.51.100.2' } });
    expect(other.status).toBe(200);
    expect((await Promise.all(uploads)).map((u) => u.status)).toEqual([200, 200, 200]);
    // Its finished requests are no longer counted: the client has its whole allowance again.
    const again = await Promise.all([1, 2, 3].map(() => rawRequest(`${gw.url}/r/again`, { headers: { 'x-forwarded-for': greedy } })));
    expect(again.map((r) => r.status)).toEqual([200, 200, 200]);
  });
});
