import request from 'supertest';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { exchange } from '../helpers/raw-socket';
import { startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * What the gateway refuses before any route runs, on raw sockets (a client library would fix the
 * bytes first), and what reaches the service: an echo upstream records every request it receives.
 */
let upstream: TestUpstream;
let gw: RunningGateway;

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(
    configFrom(`version: 1
gateway: { headersTimeout: 1s, requestTimeout: 2s }
services:
  echo: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: api, path: /api, service: echo }
`),
  );
});
afterAll(async () => {
  await gw.stop();
  await upstream.close();
});

/** The first final answer to `bytes` sent on a fresh connection, and whether the server closed it. */
async function sendRaw(port: number, bytes: string, waitMs = 1000) {
  const ex = await exchange({ port, pieces: [Buffer.from(bytes, 'latin1')], waitMs, lingerMs: 300 });
  const answer = ex.responses.find((r) => r.status >= 200);
  return {
    status: answer?.status ?? 0,
    headers: answer?.headers ?? {},
    json: () => JSON.parse(answer?.body.toString('utf8') ?? 'null') as Record<string, unknown>,
    statuses: ex.responses.map((r) => r.status),
    closedByServer: ex.closed,
  };
}

/** Requests the echo upstream received whose path starts with `prefix`. */
const reached = (prefix: string) => upstream.received.filter((r) => (r.url ?? '').startsWith(prefix)).length;

describe('framing the gateway refuses with problem+json, a request id and a closed connection', () => {
  it.each([
    ['a bare LF inside the request target (read by node as HTTP/0.9 plus a header)', 'GET /api/lf\nX-Injected: 1 HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/lf'],
    ['a request line without a version', 'GET /api/nover\r\nHost: a\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/nover'],
    ['two Host headers', 'GET /api/twohosts HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/twohosts'],
    ['two Host headers spelled differently', 'GET /api/twohosts2 HTTP/1.1\r\nHost: a.example\r\nHOST: b.example\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/twohosts2'],
    ['Host with userinfo (@)', 'GET /api/at HTTP/1.1\r\nHost: evil.example@lab.example\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/at'],
    ['Host with a fragment (#)', 'GET /api/hash HTTP/1.1\r\nHost: lab.example#x\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/hash'],
    ['Host with a path (/)', 'GET /api/slash HTTP/1.1\r\nHost: lab.example/x\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/slash'],
    ['Host with a backslash', 'GET /api/bs HTTP/1.1\r\nHost: lab.example\\x\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/bs'],
    ['Host with a space', 'GET /api/sp HTTP/1.1\r\nHost: lab example\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/sp'],
    ['HTTP/1.1 without Host (node answers a bare 400 by itself)', 'GET /api/nohost HTTP/1.1\r\n\r\n', 400, 'GW_BAD_REQUEST', '/api/nohost'],
    ['Transfer-Encoding: gzip, chunked', 'POST /api/gzip HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501, 'GW_UNSUPPORTED_TRANSFER_CODING', '/api/gzip'],
    [
      'gzip and chunked in two Transfer-Encoding headers',
      'POST /api/gzip2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      501,
      'GW_UNSUPPORTED_TRANSFER_CODING',
      '/api/gzip2',
    ],
    [
      'Expect other than 100-continue (node answers a bare 417 by itself)',
      'POST /api/expect HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\n{}',
      417,
      'GW_EXPECTATION_FAILED',
      '/api/expect',
    ],
  ])('%s', async (_what, bytes, status, code, path) => {
    const answer = await sendRaw(gw.port, bytes, 1500);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers.connection).toBe('close');
    expect(answer.json()).toMatchObject({ status, code });
    expect(answer.closedByServer).toBe(true);
    expect(reached(path)).toBe(0);
  });

  it.each([
    ['a name', 'lab.example'],
    ['a name and port', 'lab.example:8000'],
    ['an IPv4 address and port', '127.0.0.1:8000'],
    ['an IPv6 literal', '[::1]:8000'],
    ['a name with an underscore (Docker service names)', 'sample_service:8081'],
  ])('Host with %s passes', async (_what, host) => {
    const path = `/api/host-ok-${encodeURIComponent(host)}`;
    const answer = await sendRaw(gw.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(answer.status).toBe(200);
    expect(reached(path)).toBe(1);
  });

  it('HTTP/1.0 without Host passes, chunked alone passes, Expect: 100-continue gets 100 then the answer', async () => {
    expect((await sendRaw(gw.port, 'GET /api/http10 HTTP/1.0\r\n\r\n')).status).toBe(200);
    const chunked = await sendRaw(gw.port, 'POST /api/chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
    expect(chunked.status).toBe(200);
    const expect100 = await sendRaw(gw.port, 'POST /api/continue HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    expect(expect100.statuses).toEqual([100, 200]);
  });
});

describe('slow clients are cut within their timeout plus a second', () => {
  it('a client that never finishes its headers is answered 408 about headersTimeout (1 s) later, not on a 30 s sweep', async () => {
    const started = Date.now();
    const answer = await sendRaw(gw.port, 'GET /api/slowloris HTTP/1.1\r\nHost: a\r\nX-Slow: 1\r\n', 10_000);
    const took = Date.now() - started;
    expect(answer.status).toBe(408);
    expect(answer.closedByServer).toBe(true);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(2_500);
  });

  it('a body that never completes is cut at requestTimeout (2 s) plus at most a second', async () => {
    const started = Date.now();
    const answer = await sendRaw(gw.port, 'POST /api/slowbody HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{"a":', 10_000);
    const took = Date.now() - started;
    expect(answer.closedByServer).toBe(true);
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(3_500);
  });
});

describe('identity headers in other spellings', () => {
  it.each([['X-User_Id'], ['X_User_Id'], ['x_user-id'], ['X-User_Roles'], ['X_Forwarded_For']])('%s never reaches the service', async (name) => {
    const res = await request(gw.url).get('/api/underscore').set(name, 'admin').expect(200);
    const headers = (JSON.parse(res.text) as { headers: Record<string, string> }).headers;
    expect(Object.keys(headers).filter((h) => h.includes('_'))).toEqual([]);
    expect(headers['x-user-id']).toBeUndefined();
  });

  it('other underscore headers are dropped by default (gateway.dropUnderscoreHeaders), hyphenated ones pass', async () => {
    const res = await request(gw.url).get('/api/underscore').set('X-Lab_Code', 'L1').set('X-Lab-Code', 'L2').expect(200);
    const headers = (JSON.parse(res.text) as { headers: Record<string, string> }).headers;
    expect(headers['x-lab_code']).toBeUndefined();
    expect(headers['x-lab-code']).toBe('L2');
  });

  it('with dropUnderscoreHeaders: false other underscore headers pass, identity spellings still do not', async () => {
    const open = await startGateway(
      configFrom(`version: 1
gateway: { dropUnderscoreHeaders: false }
services:
  echo: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: api, path: /api, service: echo }
`),
    );
    try {
      const res = await request(open.url).get('/api/underscore').set('X-Lab_Code', 'L1').set('X-User_Id', 'admin').expect(200);
      const headers = (JSON.parse(res.text) as { headers: Record<string, string> }).headers;
      expect(headers['x-lab_code']).toBe('L1');
      expect(headers['x-user_id']).toBeUndefined();
    } finally {
      await open.stop();
    }
  });
});
