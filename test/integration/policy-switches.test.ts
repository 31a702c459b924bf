import request from 'supertest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFrom, startGateway, RunningGateway } from '../helpers/gateway';
import { echoGateways } from '../helpers/echo-gateways';
import { labClaims, mint, SECRET } from '../helpers/tokens';
import { ROOT } from '../helpers/process';

/**
 * A policy block that is written is on (Kong's model: a configured plugin runs); `enabled: false`
 * turns it off and the `*__ENABLED=false` variables stay the kill switches. Real gateway, real
 * upstream, real sockets.
 */
const echo = echoGateways();
const gateway = echo.gateway;

const bearer = (sub: string) => ({ authorization: `Bearer ${mint(labClaims({ sub, iss: 'tracseq-auth' }), SECRET, 'HS256')}` });

async function statuses(gw: RunningGateway, count: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await request(gw.url).get('/api/x').set(headers)).status);
  return out;
}

describe('a rate limit that is written is on', () => {
  it('rateLimit: { requestsPerMinute: 5 } without enabled answers 429 after 5 calls', async () => {
    const gw = await gateway(`routes:\n  - { name: api, path: /api, service: echo, rateLimit: { requestsPerMinute: 5 } }\n`);
    expect(await statuses(gw, 6)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('enabled: false turns it off', async () => {
    const gw = await gateway(`routes:\n  - { name: api, path: /api, service: echo, rateLimit: { enabled: false, requestsPerMinute: 5 } }\n`);
    expect(await statuses(gw, 7)).toEqual(Array(7).fill(200));
  });

  it('a route saying enabled: false opts out of a written defaults.rateLimit; the other routes keep it', async () => {
    const gw = await gateway(`defaults: { rateLimit: { requestsPerMinute: 2 } }
routes:
  - { name: api, path: /api, service: echo, rateLimit: { enabled: false } }
  - { name: other, path: /other, service: echo }
`);
    expect(await statuses(gw, 4)).toEqual([200, 200, 200, 200]);
    const other = [];
    for (let i = 0; i < 3; i++) other.push((await request(gw.url).get('/other/x')).status);
    expect(other).toEqual([200, 200, 429]);
  });

  it('RATE_LIMITING__ENABLED=false stays the kill switch', async () => {
    const gw = await gateway(`routes:\n  - { name: api, path: /api, service: echo, rateLimit: { requestsPerMinute: 2 } }\n`, { RATE_LIMITING__ENABLED: 'false' });
    expect(await statuses(gw, 4)).toEqual([200, 200, 200, 200]);
  });

  it('an environment variable that only sets a value does not switch rate limiting on', async () => {
    const gw = await gateway(`routes:\n  - { name: api, path: /api, service: echo }\n`, { RATE_LIMITING__DEFAULT_REQUESTS_PER_MINUTE: '2' });
    expect(await statuses(gw, 4)).toEqual([200, 200, 200, 200]);
  });
});

describe('a cors block that is written is on', () => {
  const preflight = (gw: RunningGateway) => request(gw.url).options('/api/x').set({ origin: 'http://localhost:3000', 'access-control-request-method': 'POST' });
  const routes = `routes:\n  - { name: api, path: /api, service: echo, auth: { required: false } }\n`;

  it('cors: { origins: [...] } without enabled answers a preflight', async () => {
    const gw = await gateway(`cors: { origins: ["http://localhost:3000"] }\n${routes}`);
    const res = await preflight(gw).expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    const call = await request(gw.url).get('/api/x').set('origin', 'http://localhost:3000').expect(200);
    expect(call.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('enabled: false turns it off: the preflight goes on to the service, without CORS headers', async () => {
    const gw = await gateway(`cors: { enabled: false, origins: ["http://localhost:3000"] }\n${routes}`);
    const res = await preflight(gw);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.parse(res.text)).toMatchObject({ method: 'OPTIONS' });
  });

  it('CORS__ENABLED=false stays the kill switch', async () => {
    const gw = await gateway(`cors: { origins: ["http://localhost:3000"] }\n${routes}`, { CORS__ENABLED: 'false' });
    expect((await preflight(gw)).headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('rate limit defaults that fit the callers', () => {
  it('the default key is the user: two users are counted apart; a call without a token counts by IP', async () => {
    const gw = await gateway(`auth: { jwt: { secret: "${SECRET}", issuer: tracseq-auth } }
defaults: { rateLimit: { requestsPerMinute: 2 } }
routes:
  - { name: api, path: /api, service: echo, auth: { required: true } }
  - { name: open, path: /open, service: echo, auth: { required: false } }
`);
    expect(await statuses(gw, 3, bearer('user-a'))).toEqual([200, 200, 429]);
    expect(await statuses(gw, 2, bearer('user-b'))).toEqual([200, 200]);
    const anonymous = [];
    for (let i = 0; i < 3; i++) anonymous.push((await request(gw.url).get('/open/x')).status);
    expect(anonymous).toEqual([200, 200, 429]);
  });

  it('the shipped routes.yaml: 60 concurrent calls from one authenticated service get no 429, and a second user has a counter of its own', async () => {
    const text = readFileSync(join(ROOT, 'routes.yaml'), 'utf8');
    const env: Record<string, string> = { AUTHENTICATION__JWT_SECRET_KEY: SECRET };
    for (const name of ['AUTH', 'SAMPLES', 'STORAGE', 'TEMPLATES', 'SEQUENCING', 'NOTIFICATIONS', 'RAG']) env[`SERVICES__${name}__URLS`] = echo.upstream().url;
    const gw = echo.track(await startGateway(configFrom(text, env)));
    const service = bearer('sample-pipeline');
    const all = await Promise.all(Array.from({ length: 60 }, () => request(gw.url).get('/samples/list').set(service)));
    expect(all.map((r) => r.status)).toEqual(Array(60).fill(200));
    const remaining = (r: request.Response) => Number(/"burst";r=(\d+)/.exec(String(r.headers.ratelimit))?.[1]);
    const other = await request(gw.url).get('/samples/list').set(bearer('another-user')).expect(200);
    // The second user's per-second window is fresh: the first caller's 60 calls are not on it.
    expect(remaining(other)).toBe(127);
  });
});
