import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceEnvName } from '../../src/config/env';
import { createStandIn, listen } from '../../src/demo/stand-in';
import { DEMO_JWT_SECRET, DEMO_SERVICES, DEMO_USER } from '../../src/demo/demo-user';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';

/**
 * The shipped routes.yaml, with every service pointed at a stand-in on an ephemeral port and the
 * demo's JWT secret; requests carry a token the way the auth service issues them.
 */
const standIns: Server[] = [];
let gw: RunningGateway;
const token = jwt.sign({ email: DEMO_USER.email, roles: DEMO_USER.roles }, DEMO_JWT_SECRET, {
  algorithm: 'HS256',
  subject: DEMO_USER.sub,
  issuer: 'tracseq-auth',
  expiresIn: '10m',
});

beforeAll(async () => {
  const env: Record<string, string> = { AUTHENTICATION__JWT_SECRET_KEY: DEMO_JWT_SECRET };
  for (const { name } of DEMO_SERVICES) {
    const server = createStandIn({ service: name });
    standIns.push(server);
    const port = await listen(server, 0);
    env[`SERVICES__${serviceEnvName(name)}__URLS`] = `http://127.0.0.1:${port}`;
  }
  gw = await startGateway(configFrom(readFileSync(join(__dirname, '..', '..', 'routes.yaml'), 'utf8'), env));
});

afterAll(async () => {
  await gw.stop();
  await Promise.all(standIns.map((s) => new Promise((r) => s.close(r))));
});

describe('the seven TracSeq routes of routes.yaml', () => {
  it.each([
    ['auth', 'POST', '/auth/login', '/api/v1/login'],
    ['samples', 'GET', '/samples/list', '/api/v1/list'],
    ['storage', 'GET', '/storage/locations', '/api/v1/locations'],
    ['templates', 'POST', '/templates/validate', '/api/v1/validate'],
    ['sequencing', 'GET', '/sequencing/jobs', '/api/v1/jobs'],
    ['notifications', 'POST', '/notifications/send', '/api/v1/send'],
    ['rag', 'POST', '/rag/documents/upload', '/api/v1/documents/upload'],
  ])('%s: %s %s reaches %s', async (service, method, path, upstreamPath) => {
    const res = await request(gw.url)
      [method.toLowerCase() as 'get' | 'post'](path)
      .set('authorization', `Bearer ${token}`)
      .send(method === 'POST' ? { probe: true } : undefined);
    expect(res.status).toBe(200);
    expect(res.body.service).toBe(service);
    expect(res.body.path).toBe(upstreamPath);
    expect(res.body.method).toBe(method);
    expect(res.headers['x-request-id']).toBe(res.body.headers['x-request-id']);
    expect(res.body.headers).toMatchObject({ 'x-user-id': DEMO_USER.sub, 'x-user-roles': DEMO_USER.roles.join(','), 'x-user-email': DEMO_USER.email });
  });

  it.each([
    ['samples', 'GET', '/samples/list'],
    ['storage', 'GET', '/storage/locations'],
    ['templates', 'POST', '/templates/validate'],
    ['sequencing', 'GET', '/sequencing/jobs'],
    ['notifications', 'POST', '/notifications/send'],
    ['rag', 'POST', '/rag/documents/upload'],
  ])('%s: %s %s without a token is 401 (defaults.auth.required)', async (_service, method, path) => {
    const res = await request(gw.url)[method.toLowerCase() as 'get' | 'post'](path);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('GW_UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tracseq"');
  });

  it('auth: login needs no token', async () => {
    const res = await request(gw.url).post('/auth/login').send({ username: 'demo' });
    expect(res.status).toBe(200);
    expect(res.body.path).toBe('/api/v1/login');
    expect(res.body.headers['x-user-id']).toBeUndefined();
  });
});
