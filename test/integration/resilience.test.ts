import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import request from 'supertest';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';

/** An upstream that names itself in its answers, with a switchable behaviour. */
async function namedUpstream(name: string, port = 0) {
  const state = {
    name,
    status: 200,
    hold: false,
    held: [] as ServerResponse[],
    hits: 0,
    upstream: undefined as unknown as TestUpstream,
  };
  state.upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url === '/health') {
      res.statusCode = state.status === 200 ? 200 : 503;
      return res.end();
    }
    state.hits++;
    if (state.hold || req.url?.includes('hold')) return void state.held.push(res);
    res.statusCode = state.status;
    res.end(name);
  }, port);
  return state;
}

type Named = Awaited<ReturnType<typeof namedUpstream>>;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gatewayFor(yaml: string): Promise<RunningGateway> {
  const gw = await startGateway(configFrom(yaml));
  cleanups.push(() => gw.stop());
  return gw;
}

async function upstreams(...names: string[]): Promise<Named[]> {
  const list = await Promise.all(names.map((n) => namedUpstream(n)));
  for (const u of list) {
    cleanups.push(async () => {
      for (const r of u.held) r.end();
      await u.upstream.close();
    });
  }
  return list;
}

/** Sends `n` GETs one after another over keep-alive connections; returns the bodies. */
async function sequential(gw: RunningGateway, path: string, n: number): Promise<{ status: number; body: string }[]> {
  const pool = new Pool(gw.url, { connections: 1 });
  const out: { status: number; body: string }[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const res = await pool.request({ path, method: 'GET' });
      out.push({ status: res.statusCode, body: await res.body.text() });
    }
  } finally {
    await pool.close();
  }
  return out;
}

const count = (bodies: { body: string }[], name: string) => bodies.filter((b) => b.body === name).length;
const NO_CHECKS = 'healthCheck: { enabled: false }';

describe('load balancing', () => {
  it('round robin spreads 1,000 requests exactly evenly', async () => {
    const [a, b] = await upstreams('a', 'b');
    const gw = await gatewayFor(`
version: 1
services:
  s: { instances: ["${a.upstream.url}", "${b.upstream.url}"], ${NO_CHECKS} }
routes: [{ name: r, path: /r, service: s }]
`);
    const bodies = await sequential(gw, '/r', 1000);
    expect(count(bodies, 'a')).toBe(500);
    expect(count(bodies, 'b')).toBe(500);
    expect(bodies.slice(0, 4).map((x) => x.body)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('smooth weighted round robin gives 3:1 within ±1 and never a a a b', async () => {
    const [a, b] = await upstreams('a', 'b');
    const gw = await gatewayFor(`
version: 1
services:
  s:
    instances: [{ url: "${a.upstream.url}", weight: 3 }, { url: "${b.upstream.url}", weight: 1 }]
    loadBalancer: weighted_round_robin
    ${NO_CHECKS}
routes: [{ name: r, path: /r, service: s }]
`);
    const bodies = await sequential(gw, '/r', 1000);
    expect(Math.abs(count(bodies, 'a') - 750)).toBeLessThanOrEqual(1);
    expect(Math.abs(count(bodies, 'b') - 250)).toBeLessThanOrEqual(1);
    expect(bodies.map((x) => x.body).join('')).not.toContain('aaaa');
    expect(
      bodies
        .slice(0, 4)
        .map((x) => x.body)
        .join(''),
    ).toBe('aaba');
  });

  it('least connections sends new requests to the instance with fewer slow requests in flight', async () => {
    const [a, b] = await upstreams('a', 'b');
    const gw = await gatewayFor(`
version: 1
services:
  s: { instances: ["${a.upstream.url}", "${b.upstream.url}"], loadBalancer: least_connections, ${NO_CHECKS} }
routes: [{ name: r, path: /r, service: s }]
`);
    // Four slow requests spread two and two; then b finishes its two.
    const slow = [1, 2, 3, 4].map(() =>
      request(gw.url)
        .get('/r/hold')
        .then((r) => r.text),
    );
    await waitFor(() => a.held.length + b.held.length === 4, 3000, 'four held requests');
    expect([a.held.length, b.held.length]).toEqual([2, 2]);
    for (const r of b.held.splice(0)) r.end('b');
    await waitFor(() => gw.server.current.services.get('s')!.instances[1].inFlight === 0, 3000, 'b drained');
    const fast = await sequential(gw, '/r', 10);
    expect(count(fast, 'b')).toBe(10);
    for (const r of a.held.splice(0)) r.end('a');
    expect((await Promise.all(slow)).sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('LOAD_BALANCER__ENABLED=false sends everything to the first available instance', async () => {
    const [a, b] = await upstreams('a', 'b');
    const gw = await startGateway(
      configFrom(
        `
version: 1
services:
  s: { instances: ["${a.upstream.url}", "${b.upstream.url}"], ${NO_CHECKS} }
routes: [{ name: r, path: /r, service: s }]
`,
        { LOAD_BALANCER__ENABLED: 'false' },
      ),
    );
    cleanups.push(() => gw.stop());
    const bodies = await sequential(gw, '/r', 20);
    expect(count(bodies, 'a')).toBe(20);
  });
});

describe('active health checks', () => {
  it('routes around a killed instance after detection and takes it back after healthyThreshold checks', async () => {
    const [a, b] = await upstreams('a', 'b');
    const gw = await gatewayFor(`
version: 1
services:
  s:
    instances: ["${a.upstream.url}", "${b.upstream.url}"]
    healthCheck: { interval: 100ms, timeout: 200ms, unhealthyThreshold: 2, healthyThreshold: 2 }
    circuitBreaker: { enabled: false }
routes: [{ name: r, path: /r, service: s }]
`);
    const health = async () => (await request(gw.url).get('/health/services')).body;
    await waitFor(() => a.upstream.received.length > 0 && b.upstream.received.length > 0, 3000, 'first checks');

    const port = a.upstream.port;
    await a.upstream.close();
    // Detection: two failed checks 100 ms apart.
    let h: any;
    for (const deadline = Date.now() + 3000; Date.now() < deadline;) {
      h = await health();
      if (h.services.s.instances[0].health === 'unhealthy') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(h).toMatchObject({ status: 'degraded', services: { s: { status: 'degraded' } } });
    expect(h.services.s.instances[0]).toMatchObject({ health: 'unhealthy', available: false, lastError: 'ECONNREFUSED' });
    expect(h.services.s.instances[0].consecutiveFailedChecks).toBeGreaterThanOrEqual(2);

    const during = await sequential(gw, '/r', 50);
    expect(during.every((r) => r.status === 200 && r.body === 'b')).toBe(true);

    const revived = await namedUpstream('a', port);
    cleanups.push(() => revived.upstream.close());
    await waitFor(() => gw.server.current.services.get('s')!.instances[0].health.status === 'healthy', 3000, 'a healthy again');
    expect(revived.upstream.received.filter((r) => r.url === '/health').length).toBeGreaterThanOrEqual(2);
    const after = await sequential(gw, '/r', 10);
    expect(count(after, 'a')).toBe(5);
    expect((await health()).status).toBe('healthy');
  });

  it('all instances down: 503 GW_NO_HEALTHY_INSTANCE at once (no instance tried), with Retry-After', async () => {
    const [p1, p2] = [await closedPort(), await closedPort()];
    const gw = await gatewayFor(`
version: 1
services:
  s:
    instances: ["http://127.0.0.1:${p1}", "http://127.0.0.1:${p2}"]
    healthCheck: { interval: 50ms, timeout: 100ms, unhealthyThreshold: 1 }
routes: [{ name: r, path: /r, service: s }]
`);
    await waitFor(() => gw.server.current.services.get('s')!.status() === 'unhealthy', 3000, 'both unhealthy');
    const h = await request(gw.url).get('/health/services');
    expect(h.status).toBe(503);
    expect(h.body.status).toBe('unhealthy');
    const started = performance.now();
    const res = await request(gw.url).get('/r/x');
    const took = performance.now() - started;
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('GW_NO_HEALTHY_INSTANCE');
    expect(res.headers['retry-after']).toBe('5');
    // Answered without waiting on any instance: far below the connect timeout (5 s) and the route's
    // timeout; the bound is loose because the other test files share the two cores.
    expect(took).toBeLessThan(500);
  });
});

describe('circuit breaker', () => {
  it('trips open on 503s, sends no traffic while open, lets exactly halfOpenRequests trials through, closes on success', async () => {
    const [a, b] = await upstreams('a', 'b');
    a.status = 503;
    const gw = await gatewayFor(`
version: 1
services:
  s:
    instances: ["${a.upstream.url}", "${b.upstream.url}"]
    ${NO_CHECKS}
    circuitBreaker: { failureThreshold: 3, minimumRequests: 3, openFor: 400ms, halfOpenRequests: 1 }
routes: [{ name: r, path: /r, service: s, retry: { attempts: 1 } }]
`);
    const circuit = async () => (await request(gw.url).get('/health/services')).body.services.s.instances[0].circuit;
    const first = await sequential(gw, '/r', 6); // a b a b a b: the third 503 from a opens it
    expect(first.filter((r) => r.status === 503)).toHaveLength(3);
    expect(await circuit()).toBe('open');
    expect((await request(gw.url).get('/health/services')).body.status).toBe('degraded');

    const hitsWhenOpened = a.hits;
    const whileOpen = await sequential(gw, '/r', 10);
    expect(whileOpen.every((r) => r.body === 'b')).toBe(true);
    expect(a.hits).toBe(hitsWhenOpened);

    await new Promise((r) => setTimeout(r, 450));
    expect(await circuit()).toBe('half_open');
    a.status = 200;
    a.hold = true;
    b.hold = true;
    const burst = [1, 2, 3, 4, 5, 6].map(() =>
      request(gw.url)
        .get('/r')
        .then((r) => r.status),
    );
    await waitFor(() => a.held.length + b.held.length === 6, 3000, 'six held requests');
    expect(a.held).toHaveLength(1);
    a.hold = false;
    b.hold = false;
    for (const r of [...a.held.splice(0), ...b.held.splice(0)]) r.end('done');
    await Promise.all(burst);
    expect(await circuit()).toBe('closed');
    const after = await sequential(gw, '/r', 4);
    expect(count(after, 'a')).toBe(2);
  });
});

describe('retries', () => {
  it('a GET whose first instance refuses the connection succeeds on the second, one attempt each', async () => {
    // b first: a port released by closedPort() could otherwise be handed to b itself.
    const [b] = await upstreams('b');
    const dead = await closedPort();
    const gw = await gatewayFor(`
version: 1
defaults: { retry: { attempts: 2 } }
services:
  s: { instances: ["http://127.0.0.1:${dead}", "${b.upstream.url}"], ${NO_CHECKS} }
routes: [{ name: r, path: /r, service: s }]
`);
    const res = await request(gw.url).get('/r/x').set('x-request-id', 'retry-1');
    expect(res.status).toBe(200);
    expect(res.text).toBe('b');
    expect(b.hits).toBe(1);
    await waitFor(() => gw.logs().some((l) => l.requestId === 'retry-1'), 2000, 'access line');
    expect(gw.logs().find((l) => l.requestId === 'retry-1')).toMatchObject({ retries: 1, upstream: b.upstream.url, status: 200 });
  });

  it('retries a small PUT body byte for byte on the other instance after a 503', async () => {
    const [a, b] = await upstreams('a', 'b');
    a.status = 503;
    const bodies: string[] = [];
    b.upstream.server.removeAllListeners('request');
    b.upstream.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        bodies.push(text);
        res.end('b');
      });
    });
    const gw = await gatewayFor(`
version: 1
defaults: { retry: { attempts: 2 } }
services:
  s: { instances: ["${a.upstream.url}", "${b.upstream.url}"], ${NO_CHECKS}, circuitBreaker: { enabled: false } }
routes: [{ name: r, path: /r, service: s }]
`);
    const res = await request(gw.url).put('/r/sample/7').set('content-type', 'application/json').send({ status: 'stored' });
    expect(res.status).toBe(200);
    expect(a.hits).toBe(1);
    expect(bodies).toEqual(['{"status":"stored"}']);
  });

  it('a POST is not retried', async () => {
    const [b] = await upstreams('b');
    const dead = await closedPort();
    const gw = await gatewayFor(`
version: 1
defaults: { retry: { attempts: 3 } }
services:
  s: { instances: ["http://127.0.0.1:${dead}", "${b.upstream.url}"], ${NO_CHECKS} }
routes: [{ name: r, path: /r, service: s }]
`);
    const res = await request(gw.url).post('/r/x').send({ a: 1 });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
    expect(b.hits).toBe(0);
  });

  it('the retry budget caps retries when every instance is down', async () => {
    const [p1, p2] = [await closedPort(), await closedPort()];
    const gw = await gatewayFor(`
version: 1
defaults: { retry: { attempts: 3, budget: { ratio: 0.2, minPerSecond: 3 } } }
services:
  s: { instances: ["http://127.0.0.1:${p1}", "http://127.0.0.1:${p2}"], ${NO_CHECKS}, circuitBreaker: { enabled: false } }
routes: [{ name: r, path: /r, service: s }]
`);
    const results = await sequential(gw, '/r', 40);
    expect(results.every((r) => r.status === 502)).toBe(true);
    await waitFor(() => gw.logs().filter((l) => l.message === 'request').length === 40, 2000, 'access lines');
    const retries = gw
      .logs()
      .filter((l) => l.message === 'request')
      .reduce((sum, l) => sum + (l.retries as number), 0);
    // Without a budget: 2 retries each = 80. With it: 3 a second plus 20% of 40 requests.
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(3 * 2 + 0.2 * 40);
  });
});
