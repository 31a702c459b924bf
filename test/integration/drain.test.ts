import { Agent } from 'node:http';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { rawRequest, waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * A drain must not reset a request a client sends on a connection it was allowed to keep: every
 * answer written once draining has begun says Connection: close, and connections that carry a
 * request are never closed under it.
 */
let upstream: TestUpstream;
let gw: RunningGateway;
const held: (() => void)[] = [];

beforeEach(async () => {
  upstream = await startUpstream((req, res) => {
    req.resume();
    if (req.url?.startsWith('/api/hold')) {
      held.push(() => res.end('released'));
      return;
    }
    res.end('ok');
  });
  gw = await startGateway(
    configFrom(`version: 1
services:
  echo: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: api, path: /api, service: echo }
`),
  );
});
afterEach(async () => {
  await gw.stop();
  await upstream.close();
});

interface Outcome {
  status: number;
  connection: string | undefined;
  body: string;
}

/** A GET on `agent`'s connections (rawRequest), with the Connection header of its answer. */
async function get(path: string, agent: Agent, port = gw.port): Promise<Outcome> {
  const res = await rawRequest(`http://127.0.0.1:${port}${path}`, { agent });
  return { status: res.status, connection: res.headers.connection, body: res.body };
}

describe('drain', () => {
  it('an answer in flight when the drain starts carries Connection: close', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get('/api/warm', agent)).connection).toBe('keep-alive');
    const pending = get('/api/hold/1', agent);
    await waitFor(() => held.length === 1, 3000, 'the held request at the upstream');
    const stopped = gw.server.stop(5_000);
    await waitFor(() => gw.logs().some((l) => l.message === 'gateway draining'), 3000, 'drain start');
    held.shift()!();
    const outcome = await pending;
    expect(outcome).toEqual({ status: 200, connection: 'close', body: 'released' });
    await stopped;
    agent.destroy();
  });

  it('under steady keep-alive load, no request on a kept connection is reset by the drain', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const failures: string[] = [];
    let answered = 0;
    let closesSeen = 0;
    let draining = false;
    const deadline = Date.now() + 4_000;
    const client = async () => {
      while (Date.now() < deadline) {
        try {
          const outcome = await get('/api/load', agent);
          answered++;
          if (draining && outcome.connection === 'close') closesSeen++;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? String(err);
          // New connections are refused once the listener is closed: that is the drain working.
          if (code === 'ECONNREFUSED') return;
          failures.push(code);
          return;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await waitFor(() => answered > 200, 3000, 'steady load');
    draining = true;
    const stopped = gw.server.stop(3_000);
    await Promise.all(clients);
    await stopped;
    agent.destroy();
    expect(failures).toEqual([]);
    expect(closesSeen).toBeGreaterThan(0);
  });
});

describe('shutdown delay (gateway.shutdownDelay)', () => {
  it('/ready turns 503 at once while new connections are still accepted and served, then the drain refuses them', async () => {
    const delayed = await startGateway(
      configFrom(`version: 1
gateway: { shutdownDelay: 1s }
services:
  echo: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: api, path: /api, service: echo }
`),
    );
    const at = (port: number, path: string) => get(path, new Agent({ keepAlive: false }), port);
    expect((await at(delayed.port, '/ready')).status).toBe(200);
    const started = Date.now();
    const stopped = delayed.server.stop(2_000);
    const ready = await at(delayed.port, '/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: 'shutting_down' });
    // New connections during the delay: answered, each told to close.
    for (let i = 0; i < 5; i++) {
      const outcome = await at(delayed.port, `/api/during-delay-${i}`);
      expect(outcome).toMatchObject({ status: 200, connection: 'close' });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Date.now() - started).toBeLessThan(1_000);
    await waitFor(() => delayed.logs().some((l) => l.message === 'gateway draining'), 3000, 'drain start');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    await expect(at(delayed.port, '/api/after-delay')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await stopped;
  });
});
