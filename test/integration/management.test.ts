import request from 'supertest';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';

let gw: RunningGateway;

beforeAll(async () => {
  gw = await startGateway(
    configFrom(
      `
version: 1
gateway: { environment: staging }
monitoring: { logRequests: false }
services:
  samples:
    instances: ["http://127.0.0.1:1", { url: "http://127.0.0.1:2", weight: 3 }]
    loadBalancer: weighted_round_robin
    healthCheck: { enabled: false }
  auth: { instances: ["http://127.0.0.1:3"], healthCheck: { enabled: false } }
routes:
  - { name: samples, path: /samples, service: samples, rewrite: /api/v1 }
  - { name: samples-admin, path: /samples/admin, service: samples, methods: [GET] }
  - { name: login, path: /auth, service: auth }
`,
    ),
  );
});
afterAll(() => gw.stop());

describe('management endpoints', () => {
  it('GET / describes the gateway, its routes and services', async () => {
    const res = await request(gw.url).get('/');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'TracSeq API Gateway', environment: 'staging', version: expect.any(String) });
    expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(res.body.routes.map((r: { name: string }) => r.name)).toEqual(['samples', 'samples-admin', 'login']);
    expect(res.body.routes[0]).toMatchObject({ path: '/samples', service: 'samples', rewrite: '/api/v1' });
    expect(res.body.services).toEqual(expect.arrayContaining([{ name: 'samples', status: 'healthy', loadBalancer: 'weighted_round_robin', instances: 2, available: 2 }]));
    expect(res.headers['x-request-id']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('GET /health answers 200 while the process serves', async () => {
    const res = await request(gw.url).get('/health');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('GET /services lists each service, its instances and the routes that use it', async () => {
    const res = await request(gw.url).get('/services');
    const samples = res.body.services.find((s: { name: string }) => s.name === 'samples');
    expect(samples).toEqual({
      name: 'samples',
      status: 'healthy',
      loadBalancer: 'weighted_round_robin',
      instances: [
        { url: 'http://127.0.0.1:1', weight: 1, inFlight: 0, available: true },
        { url: 'http://127.0.0.1:2', weight: 3, inFlight: 0, available: true },
      ],
      routes: ['samples', 'samples-admin'],
      openapi: null, // services.samples.openapi is not set
    });
  });

  it('writes no access lines when monitoring.logRequests is false', async () => {
    await request(gw.url).get('/health');
    await request(gw.url).get('/samples/x');
    expect(gw.logs().some((l) => l.message === 'gateway listening')).toBe(true);
    expect(gw.logs().filter((l) => l.message === 'request')).toEqual([]);
  });

  it.each(['/docs/unknown', '/admin/reload'])('%s is reserved: answered by the gateway, never proxied', async (path) => {
    const res = await request(gw.url).get(path);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('GW_NOT_FOUND');
  });

  it('serves /docs itself (the API documentation page)', async () => {
    const res = await request(gw.url).get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
  });
});
