import type { Server } from 'node:http';
import WebSocket from 'ws';
import { createStandIn, listen } from '../../src/demo/stand-in';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';

let standIn: Server;
let gw: RunningGateway;

beforeAll(async () => {
  standIn = createStandIn({ service: 'notifications' });
  const port = await listen(standIn, 0);
  gw = await startGateway(
    configFrom(`
version: 1
services:
  notifications: { instances: ["http://127.0.0.1:${port}"] }
routes:
  - { name: live, path: /notifications, service: notifications, rewrite: /api/v1, websocket: true }
  - { name: plain, path: /plain, service: notifications, rewrite: /api/v1 }
`),
  );
});

afterAll(async () => {
  await gw.stop();
  await new Promise((r) => standIn.close(r));
});

function open(path: string): Promise<{ ws: WebSocket; first: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`);
    ws.once('message', (data) => resolve({ ws, first: JSON.parse(data.toString()) as Record<string, unknown> }));
    ws.once('error', reject);
  });
}

describe('WebSocket upgrades', () => {
  it('proxies an upgrade on a websocket route with the rewritten path, both directions', async () => {
    const { ws, first } = await open('/notifications/stream?topic=runs');
    expect(first).toMatchObject({ service: 'notifications', path: '/api/v1/stream?topic=runs', hello: true });
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('sample 42 ready');
    await expect(echoed).resolves.toBe('sample 42 ready');
    ws.close();
  });

  it.each([
    ['a route without websocket: true', '/plain/stream', 404],
    ['a path no route claims', '/nothing', 404],
    ['a path hiding dot segments behind encoded slashes', '/notifications/x%2F..%2Fplain', 400],
  ])('refuses an upgrade on %s with a problem response', async (_name, path, status) => {
    const outcome = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(outcome).toBe(status);
  });
});

describe('WebSocket upgrades and Origin (cors.checkWebSocketOrigin)', () => {
  const ALLOWED = 'http://localhost:3000';
  let corsGateway: RunningGateway;
  let relaxed: RunningGateway;
  const yaml = (check: boolean) => `
version: 1
cors: { enabled: true, origins: ["${ALLOWED}"], checkWebSocketOrigin: ${check} }
services:
  notifications: { instances: ["http://127.0.0.1:${(standIn.address() as { port: number }).port}"] }
routes:
  - { name: live, path: /notifications, service: notifications, rewrite: /api/v1, websocket: true }
`;
  beforeAll(async () => {
    corsGateway = await startGateway(configFrom(yaml(true)));
    relaxed = await startGateway(configFrom(yaml(false)));
  });
  afterAll(async () => {
    await corsGateway.stop();
    await relaxed.stop();
  });

  /** The upgrade's outcome: 101 when it opened, else the refusal's status and code. */
  function upgrade(gateway: RunningGateway, origin?: string): Promise<{ status: number; code?: string }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/notifications/stream`, origin === undefined ? {} : { origin });
      ws.once('open', () => {
        ws.close();
        resolve({ status: 101 });
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { code?: string }).code }));
      });
      ws.on('error', () => undefined);
    });
  }

  it.each([
    ['an allowed origin opens', ALLOWED, { status: 101 }],
    ['another origin is refused with 403 GW_ORIGIN_DENIED (cross-site WebSocket hijacking)', 'https://evil.example', { status: 403, code: 'GW_ORIGIN_DENIED' }],
    ['no Origin (not a browser) opens', undefined, { status: 101 }],
  ])('%s', async (_name, origin, expected) => {
    await expect(upgrade(corsGateway, origin)).resolves.toEqual(expected);
  });

  it('checkWebSocketOrigin: false accepts any origin', async () => {
    await expect(upgrade(relaxed, 'https://evil.example')).resolves.toEqual({ status: 101 });
  });
});
