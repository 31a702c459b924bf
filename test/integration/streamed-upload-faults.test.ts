import { request as httpRequest, IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { Pool } from 'undici';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * Write traffic whose body is streamed to the upstream (not held for a retry) against an instance
 * that fails: each case gets its problem+json answer, or a closed connection once the answer had
 * started, and the gateway serves the next request.
 */
type Fault = (req: IncomingMessage, res: ServerResponse) => void;
const faults: Record<string, Fault> = {
  // Closes the connection as soon as the request head arrives.
  reset: (req) => req.socket.destroy(),
  // Reads the first piece of the body, then dies.
  die: (req) => req.once('data', () => req.socket.destroy()),
  // Reads the whole body and never answers.
  hang: (req) => req.resume(),
  // Answers at once, without reading the body (an upload it refuses).
  refuse: (_req, res) => {
    res.writeHead(413, { 'content-type': 'text/plain' });
    res.end('refused');
  },
  // Reads the body as it comes and answers once it is complete.
  wait: (req, res) => {
    req.resume();
    req.on('end', () => res.end('complete'));
  },
  // Reads the body, starts the answer, drips a few bytes of it, then dies mid-answer.
  drip: (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write('x');
        if (++sent === 3) {
          clearInterval(timer);
          res.socket?.destroy();
        }
      }, 50);
    });
  },
};

let upstream: TestUpstream;
let gw: RunningGateway;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const fault = faults[req.url?.split('/')[2] ?? ''];
    if (fault) return fault(req, res);
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.end(JSON.stringify({ method: req.method, bytes })));
  });
  gw = await startGateway(
    configFrom(`
version: 1
services:
  s: { instances: ["${upstream.url}"], healthCheck: { enabled: false }, circuitBreaker: { failureThreshold: 1000 } }
routes: [{ name: r, path: /r, service: s, timeout: 300ms }]
`),
  );
});

afterAll(async () => {
  await gw.stop();
  await upstream.close();
});

interface Upload {
  method: string;
  /** Declared length, or chunked (sent in two pieces, 50 ms apart). */
  chunked: boolean;
  size: number;
}

interface Outcome {
  status: number;
  body: string;
  /** The connection closed before the answer was complete. */
  cut: boolean;
}

function upload(path: string, { method, chunked, size }: Upload): Promise<Outcome> {
  const body = Buffer.alloc(size, 'a');
  return new Promise((resolve) => {
    let status = 0;
    let text = '';
    const client = httpRequest(`${gw.url}${path}`, { method, agent: false, headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(size) }) } }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status, body: text, cut: false }));
      res.on('aborted', () => resolve({ status, body: text, cut: true }));
      res.on('error', () => resolve({ status, body: text, cut: true }));
    });
    client.on('error', () => resolve({ status, body: text, cut: true }));
    if (chunked) {
      client.write(body.subarray(0, size >> 1));
      setTimeout(() => client.end(body.subarray(size >> 1)), 50);
    } else {
      client.end(body);
    }
  });
}

const uploads: [string, Upload][] = [
  ['POST with Content-Length (7 bytes)', { method: 'POST', chunked: false, size: 7 }],
  ['POST chunked', { method: 'POST', chunked: true, size: 2048 }],
  ['PUT chunked', { method: 'PUT', chunked: true, size: 2048 }],
  ['PUT with Content-Length above the replay buffer (100 KB)', { method: 'PUT', chunked: false, size: 100 * 1024 }],
  ['PATCH with Content-Length', { method: 'PATCH', chunked: false, size: 512 }],
];

const expected: [string, Partial<Outcome> & { code?: string }][] = [
  ['reset', { status: 502, code: 'GW_UPSTREAM_RESET' }],
  ['die', { status: 502, code: 'GW_UPSTREAM_RESET' }],
  ['hang', { status: 504, code: 'GW_UPSTREAM_TIMEOUT' }],
  ['drip', { status: 200, cut: true }],
];

const matrix = uploads.flatMap(([what, body]) => expected.map(([fault, outcome]) => [what, fault, body, outcome] as const));

describe('a streamed upload to a failing instance', () => {
  it.each(matrix)('%s, instance fault "%s": answered, and the gateway serves on', async (_what, fault, body, outcome) => {
    const got = await upload(`/r/${fault}`, body);
    expect(got.status).toBe(outcome.status);
    if (outcome.code) {
      expect(got.cut).toBe(false);
      const problem = JSON.parse(got.body);
      expect(problem).toMatchObject({ code: outcome.code, status: outcome.status });
      expect(problem.requestId).toMatch(/^[0-9a-f-]{36}$/);
    } else {
      expect(got.cut).toBe(true);
    }
    // The process is alive, and the next upload of the same kind goes through.
    expect((await request(gw.url).get('/health')).status).toBe(200);
    const after = await upload('/r/echo', body);
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toEqual({ method: body.method, bytes: body.size });
  });
});

describe('a client that leaves in the middle of its streamed upload', () => {
  it.each([
    ['with Content-Length', { 'content-length': '4096' }],
    ['chunked', {}],
  ])('%s: the upstream request is aborted, the instance is not blamed', async (_what, headers: Record<string, string>) => {
    const breaker = gw.server.current.services.get('s')!.instances[0].breaker;
    const before = upstream.received.length;
    const client = httpRequest(`${gw.url}/r/wait`, { method: 'POST', agent: false, headers });
    client.on('error', () => undefined);
    client.write(Buffer.alloc(1024, 'a'));
    await waitFor(() => upstream.received.length > before, 3000, 'the upload reaching the upstream');
    const upstreamSide = upstream.received[upstream.received.length - 1];
    const aborted = new Promise<void>((resolve) => upstreamSide.once('close', () => resolve()));
    client.destroy();
    await aborted;
    await waitFor(() => gw.server.inFlight === 0, 3000, 'the request to end');
    expect(breaker.consecutiveFailures).toBe(0);
    expect(gw.server.current.services.get('s')!.instances[0].inFlight).toBe(0);
    expect((await request(gw.url).get('/health')).status).toBe(200);
  });
});

describe('an instance that answers before reading the streamed upload', () => {
  it.each(uploads)('%s: its answer reaches the client, and the gateway serves on', async (_what, body) => {
    const got = await upload('/r/refuse', { ...body, size: Math.max(body.size, 512 * 1024) });
    expect(got).toEqual({ status: 413, body: 'refused', cut: false });
    const after = await upload('/r/echo', body);
    expect(after.status).toBe(200);
  });
});

it.each([
  ['an answer that came before the upload was read', 'refuse', 413],
  ['a reset', 'reset', 502],
  ['a death mid-request', 'die', 502],
  ['a hang past the route timeout', 'hang', 504],
])('after %s, the client connection carries the next request', async (_what, fault, status) => {
  const client = new Pool(gw.url, { connections: 1, pipelining: 1 });
  try {
    const first = await client.request({ path: `/r/${fault}`, method: 'POST', body: Buffer.alloc(512 * 1024, 'a'), headersTimeout: 5000 });
    expect(first.statusCode).toBe(status);
    await first.body.text();
    const next = await client.request({ path: '/r/echo', method: 'POST', body: 'hello', headersTimeout: 5000 });
    expect(next.statusCode).toBe(200);
    expect(await next.body.json()).toEqual({ method: 'POST', bytes: 5 });
  } finally {
    await client.destroy();
  }
});
