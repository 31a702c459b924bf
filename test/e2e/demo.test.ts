import request from 'supertest';
import { waitFor } from '../helpers/http';
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
  it('answers /samples/list through the gateway from the samples stand-in', async () => {
    const res = await request(url).get('/samples/list?page=1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ service: 'samples', path: '/api/v1/list', query: { page: '1' } });
  });

  it('issues a demo token at POST /auth/login', async () => {
    const res = await request(url).post('/auth/login').send({ username: 'demo', password: 'tracseq-demo' });
    expect(res.status).toBe(200);
    expect(res.body.access_token.split('.')).toHaveLength(3);
    const refused = await request(url).post('/auth/login').send({ username: 'demo', password: 'wrong' });
    expect(refused.status).toBe(401);
  });

  it('lists the seven services on GET /services', async () => {
    const res = await request(url).get('/services');
    expect(res.status).toBe(200);
    expect(res.body.services.map((s: { name: string }) => s.name).sort()).toEqual(
      ['auth', 'notifications', 'rag', 'samples', 'sequencing', 'storage', 'templates'],
    );
  });
});
