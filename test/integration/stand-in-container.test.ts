import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { DEMO_JWT_SECRET, DEMO_SERVICES, DEMO_USER } from '../../src/demo/demo-user';
import { planStandIn, serveOne } from '../../src/demo/serve-one';
import { closedPort } from '../helpers/upstream';

// What docker/docker-compose.demo.yml runs in each service container: one stand-in, by name, on
// its demo port (or PORT), healthy when scripts/healthcheck.js says so (the image's HEALTHCHECK).
const HEALTHCHECK = join(__dirname, '..', '..', 'scripts', 'healthcheck.js');

function healthcheck(port: number): Promise<number | null> {
  const child = spawn(process.execPath, [HEALTHCHECK], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('planStandIn (node dist/demo/serve-one.js <service>)', () => {
  it.each(DEMO_SERVICES.map((s) => [s.name, s.port]))('%s: its demo port %d on every interface by default', (name, port) => {
    expect(planStandIn([String(name)], {})).toEqual({ service: name, port, host: '0.0.0.0', jwtSecret: DEMO_JWT_SECRET });
  });

  it('takes PORT, HOST and JWT_SECRET_KEY from the environment', () => {
    expect(planStandIn(['rag'], { PORT: '9999', HOST: '127.0.0.1', JWT_SECRET_KEY: 's3cret' })).toEqual({ service: 'rag', port: 9999, host: '127.0.0.1', jwtSecret: 's3cret' });
  });

  it.each([
    [[], {}, /usage: serve-one\.js <service>, one of auth, samples, .*; got ""/],
    [['sample-service'], {}, /one of auth, samples, .*; got "sample-service"/],
    [['auth'], { PORT: 'http' }, /PORT="http" must be a whole number from 0 to 65535/],
  ])('refuses %j with %j', (args, env, message) => {
    expect(() => planStandIn(args as string[], env as Record<string, string>)).toThrow(message);
  });
});

describe('one stand-in in a process', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    ({ server, port } = await serveOne(planStandIn(['auth'], { HOST: '127.0.0.1', PORT: '0', JWT_SECRET_KEY: 'compose-secret' })));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers /health as its service and issues tokens (the auth stand-in) signed with JWT_SECRET_KEY', async () => {
    const url = `http://127.0.0.1:${port}`;
    expect((await request(url).get('/health')).body).toMatchObject({ status: 'ok', service: 'auth' });
    const login = await request(url).post('/api/v1/login').send({ username: DEMO_USER.username, password: DEMO_USER.password });
    expect(login.status).toBe(200);
    expect(jwt.verify(login.body.access_token, 'compose-secret', { algorithms: ['HS256'] })).toMatchObject({ sub: DEMO_USER.sub });
  });

  it('a failed login answers 401 problem+json, as every other error a client sees', async () => {
    const refused = await request(`http://127.0.0.1:${port}`).post('/api/v1/login').send({ username: DEMO_USER.username, password: 'wrong' });
    expect(refused.status).toBe(401);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(refused.text)).toMatchObject({ status: 401, title: 'Invalid credentials', instance: '/api/v1/login', type: expect.stringMatching(/^https:\/\//) });
  });

  it('scripts/healthcheck.js exits 0 on a healthy /health at PORT, 1 when nothing listens', async () => {
    expect(await healthcheck(port)).toBe(0);
    expect(await healthcheck(await closedPort())).toBe(1);
  });
});
