import request from 'supertest';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * Who may read the endpoints that reveal the deployment (/metrics, /services, /health/services):
 * on the public port, loopback only by default, judged on the client address resolved through the
 * trusted proxies; on the management listener, whoever reaches its port.
 */
let upstream: TestUpstream;
const running: RunningGateway[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(() => upstream.close());
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

async function gateway(extra = ''): Promise<RunningGateway & { managementUrl?: string }> {
  const managementPort = await closedPort();
  const gw = await startGateway(
    configFrom(`version: 1
gateway: { managementPort: ${managementPort}, managementHost: 127.0.0.1 }
services:
  echo: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: api, path: /api, service: echo }
${extra}`),
  );
  running.push(gw);
  const address = await gw.server.listenManagement();
  return { ...gw, managementUrl: address ? `http://127.0.0.1:${address.port}` : undefined };
}

const REVEALING = ['/metrics', '/services', '/health/services'];
/** A client behind the trusted proxy in front (the test client's loopback address is that proxy). */
const REMOTE_CLIENT = { 'x-forwarded-for': '203.0.113.7' };

describe('the public port', () => {
  it.each(REVEALING)('answers %s to a loopback client by default', async (path) => {
    const gw = await gateway();
    expect((await request(gw.url).get(path)).status).toBe(200);
  });

  it.each(REVEALING)('refuses %s to a remote client behind a trusted proxy with 403 problem+json', async (path) => {
    const gw = await gateway();
    const res = await request(gw.url).get(path).set(REMOTE_CLIENT);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ code: 'GW_IP_DENIED', requestId: res.headers['x-request-id'] });
  });

  it('keeps / and /health open to everyone (probes), and the routes working', async () => {
    const gw = await gateway();
    expect((await request(gw.url).get('/health').set(REMOTE_CLIENT)).status).toBe(200);
    expect((await request(gw.url).get('/').set(REMOTE_CLIENT)).status).toBe(200);
    expect((await request(gw.url).get('/api/x').set(REMOTE_CLIENT)).status).toBe(200);
  });

  it('an empty managementAllow serves the revealing endpoints to nobody on the public port', async () => {
    const gw = await gateway('ipFilter: { managementAllow: [] }');
    const res = await request(gw.url).get('/metrics');
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('management listener');
    expect((await request(gw.managementUrl!).get('/metrics')).status).toBe(200);
  });
});

describe('the management listener (gateway.managementPort)', () => {
  it.each(REVEALING)('serves %s to any client that reaches it, with a request id', async (path) => {
    const gw = await gateway();
    const res = await request(gw.managementUrl!).get(path).set(REMOTE_CLIENT);
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves no route: a proxied path is 404 there and never reaches the service', async () => {
    const gw = await gateway();
    const before = upstream.received.length;
    const res = await request(gw.managementUrl!).get('/api/x');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('GW_NOT_FOUND');
    expect(upstream.received.length).toBe(before);
  });

  it('still applies the global deny list', async () => {
    const gw = await gateway('ipFilter: { deny: [203.0.113.0/24] }');
    expect((await request(gw.managementUrl!).get('/metrics').set(REMOTE_CLIENT)).status).toBe(403);
    expect((await request(gw.managementUrl!).get('/metrics')).status).toBe(200);
  });

  it('closes with the gateway', async () => {
    const gw = await gateway();
    await gw.stop();
    running.splice(running.indexOf(gw), 1);
    expect(gw.server.managementServer?.listening).toBe(false);
  });
});
