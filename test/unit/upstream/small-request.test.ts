import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, Pool, smallRequest } from '../../../src/upstream/undici';
import { closedPort } from '../../helpers/upstream';

/** smallRequest on undici's dispatch interface, against a real server. */
let server: Server;
let origin: string;
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big') return void res.end('x'.repeat(10_000));
    if (req.url === '/never') return; // no answer at all
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url }));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('returns the status and the body', async () => {
  const pool = new Pool(origin);
  const answer = await smallRequest(pool, { path: '/a', method: 'GET', maxBytes: 1024 });
  expect(answer).toEqual({ statusCode: 201, body: Buffer.from('{"url":"/a"}'), truncated: false, contentType: 'application/json' });
  await pool.close();
});

it('keeps at most maxBytes, reads the rest, and the connection serves the next request', async () => {
  const agent = new Agent({ connections: 1 });
  const before = connections;
  const big = await smallRequest(agent, { origin, path: '/big', method: 'GET', maxBytes: 100 });
  expect(big.truncated).toBe(true);
  expect(big.body.length).toBeLessThanOrEqual(100);
  const next = await smallRequest(agent, { origin, path: '/b', method: 'GET', maxBytes: 0 });
  expect(next).toMatchObject({ statusCode: 201, truncated: true });
  expect(connections - before).toBe(1);
  await agent.close();
});

it('fails with the signal reason when cancelled before an answer', async () => {
  const pool = new Pool(origin);
  const pending = smallRequest(pool, { path: '/never', method: 'GET', maxBytes: 0, signal: AbortSignal.timeout(100) });
  await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
  await pool.destroy();
});

it("fails with undici's error code when nothing listens", async () => {
  const pool = new Pool(`http://127.0.0.1:${await closedPort()}`);
  await expect(smallRequest(pool, { path: '/', method: 'GET', maxBytes: 0 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  await pool.close();
});
