import request from 'supertest';
import { rawRequest, waitFor } from '../helpers/http';
import { distEntry, runNode, RunningProcess } from '../helpers/process';
import { closedPort } from '../helpers/upstream';

/** `npm run demo`'s own entry point: seven stand-ins on 8080-8086 and the gateway in front. */
let demo: RunningProcess;
let url: string;

beforeAll(async () => {
  const port = await closedPort();
  url = `http://127.0.0.1:${port}`;
  demo = runNode(distEntry('demo/run.js'), [], { PORT: String(port), MONITORING__LOG_REQUESTS: 'false' });
  await waitFor(() => demo.jsonLines.some((l) => l.message === 'gateway listening') || demo.child.exitCode !== null, 15_000, 'demo start');
  if (demo.child.exitCode !== null) throw new Error(`demo exited early:\n${demo.output()}`);
});

afterAll(async () => {
  demo.child.kill('SIGTERM');
  await demo.exited;
});

describe('npm run demo', () => {
  it('login → call: no token 401, the demo token 200, and the samples stand-in sees the user', async () => {
    const login = await request(url).post('/auth/login').send({ username: 'demo', password: 'tracseq-demo' });
    expect(login.status).toBe(200);
    const token: string = login.body.access_token;

    const anonymous = await request(url).get('/samples/list?page=1');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="tracseq"');
    expect(anonymous.body.code).toBe('GW_UNAUTHORIZED');

    const res = await request(url).get('/samples/list?page=1').set('authorization', `Bearer ${token}`).set('x-user-id', 'spoofed');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ service: 'samples', path: '/api/v1/list', query: { page: '1' } });
    expect(res.body.headers).toMatchObject({ 'x-user-id': 'user-0001', 'x-user-roles': 'lab_manager,researcher', 'x-user-email': 'lab.manager@tracseq.dev' });

    const forged = await request(url)
      .get('/samples/list')
      .set('authorization', `Bearer ${token.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('GW_INVALID_TOKEN');
  });

  it('issues a demo token at POST /auth/login', async () => {
    const res = await request(url).post('/auth/login').send({ username: 'demo', password: 'tracseq-demo' });
    expect(res.status).toBe(200);
    expect(res.body.access_token.split('.')).toHaveLength(3);
    const refused = await request(url).post('/auth/login').send({ username: 'demo', password: 'wrong' });
    expect(refused.status).toBe(401);
  });

  it('lets the frontend on http://localhost:3000 call it: preflight answered, CORS headers on answers and errors', async () => {
    const origin = 'http://localhost:3000';
    const preflight = await request(url).options('/samples/list').set('origin', origin).set('access-control-request-method', 'GET').set('access-control-request-headers', 'authorization');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    const anonymous = await request(url).get('/samples/list').set('origin', origin);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['access-control-allow-origin']).toBe(origin);
    const elsewhere = await request(url).options('/samples/list').set('origin', 'https://evil.example').set('access-control-request-method', 'GET');
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('streams the notification events to a token in the query, as EventSource sends it, and only there', async () => {
    const login = await request(url).post('/auth/login').send({ username: 'demo', password: 'tracseq-demo' });
    const token: string = login.body.access_token;
    const events = await rawRequest(`${url}/notifications/events?access_token=${token}`);
    expect(events.status).toBe(200);
    expect(events.headers['content-type']).toBe('text/event-stream');
    expect(events.body.match(/^data: /gm)).toHaveLength(5);
    // Other routes take the token from the Authorization header only.
    expect((await rawRequest(`${url}/samples/list?access_token=${token}`)).status).toBe(401);
  });

  it('lists the seven services on GET /services', async () => {
    const res = await request(url).get('/services');
    expect(res.status).toBe(200);
    expect(res.body.services.map((s: { name: string }) => s.name).sort()).toEqual(['auth', 'notifications', 'rag', 'samples', 'sequencing', 'storage', 'templates']);
  });

  it("shows the stand-ins' own OpenAPI documents on /docs at the gateway's paths", async () => {
    const services = async () => (await request(url).get('/services')).body.services as { name: string; openapi: { state: string } | null }[];
    const states: string[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      states.splice(0, states.length, ...(await services()).map((s) => s.openapi?.state ?? 'none'));
      if (states.every((s) => s === 'ok')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(states).toEqual(Array(7).fill('ok'));
    const doc = (await request(url).get('/docs/openapi.json')).body;
    expect(doc.paths['/samples/list'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/samples/{id}'].get).toBeDefined();
    expect(doc.paths['/samples/'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/samples.Item' });
    expect(doc.paths['/auth/login'].post.security).toEqual([]);
    expect(doc.components.schemas['storage.Item']).toBeDefined();
  });
});
