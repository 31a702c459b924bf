import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { rawRequest, waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';
import { labClaims, mint, SECRET } from '../helpers/tokens';

/**
 * auth.tokenFrom end to end: a token in a query parameter or a cookie (what EventSource and
 * `new WebSocket(...)` can send) is accepted, taken out of what the upstream receives, and never
 * written to a log. The upstreams record the URL, Cookie header and body they got.
 */
let upstream: TestUpstream;
let wsServer: Server;
/** What the WebSocket upstream saw of each upgrade. */
const upgrades: { url: string; cookie: string | undefined }[] = [];
let gw: RunningGateway;
let off: RunningGateway;

const token = mint(labClaims(), SECRET, 'HS256');
const other = mint(labClaims({ sub: 'user-7' }), SECRET, 'HS256');

function yaml(wsPort: number): string {
  return `
version: 1
defaults:
  auth:
    required: true
    tokenFrom: { query: [access_token], cookies: [gw_token] }
auth:
  jwt: { secret: ${JSON.stringify(SECRET)}, algorithms: [HS256] }
services:
  up: { instances: ["${upstream.url}"] }
  live: { instances: ["http://127.0.0.1:${wsPort}"] }
routes:
  - { name: api, path: /api, service: up }
  - { name: cookie-only, path: /cookie-only, service: up, auth: { tokenFrom: { query: [] } } }
  - { name: header-only, path: /header-only, service: up, auth: { tokenFrom: { query: [], cookies: [] } } }
  - { name: live, path: /live, service: live, websocket: true }
`;
}

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, cookie: req.headers.cookie ?? null, user: req.headers['x-user-id'] ?? null, body: Buffer.concat(chunks).toString('base64') }));
    });
  });
  wsServer = createServer();
  const wss = new WebSocketServer({ server: wsServer });
  wss.on('connection', (ws, req: IncomingMessage) => {
    upgrades.push({ url: req.url ?? '', cookie: req.headers.cookie });
    ws.send(JSON.stringify({ user: req.headers['x-user-id'] ?? null }));
  });
  await new Promise<void>((resolve) => wsServer.listen(0, '127.0.0.1', resolve));
  const wsPort = (wsServer.address() as AddressInfo).port;
  gw = await startGateway(configFrom(yaml(wsPort)));
  off = await startGateway(configFrom(yaml(wsPort), { AUTHENTICATION__ENABLED: 'false' }));
});

afterAll(async () => {
  await gw?.stop();
  await off?.stop();
  await upstream?.close();
  wsServer?.closeAllConnections();
  await new Promise((resolve) => wsServer?.close(resolve));
});

async function json(path: string, headers: Record<string, string> = {}, base = gw) {
  const res = await rawRequest(`${base.url}${path}`, { headers });
  return { status: res.status, body: res.status === 200 ? (JSON.parse(res.body) as Record<string, string | null>) : res.body };
}

describe('a token from a query parameter', () => {
  it('is accepted and removed from the upstream URL; the other parameters keep their bytes and order', async () => {
    const res = await json(`/api/events?x=1&access_token=${token}&y=%2F%20a+b&x=2`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ url: '/api/events?x=1&y=%2F%20a+b&x=2', user: 'user-42' });
  });

  it('leaves no "?" behind when it was the only parameter', async () => {
    const res = await json(`/api/events?access_token=${token}`);
    expect(res.body).toMatchObject({ url: '/api/events', user: 'user-42' });
  });

  it('is also recognised percent-encoded', async () => {
    const res = await json(`/api/events?access%5Ftoken=${encodeURIComponent(token)}&keep=1`);
    expect(res.body).toMatchObject({ url: '/api/events?keep=1', user: 'user-42' });
  });

  it('a refused token is a 401 whose answer does not echo it', async () => {
    const res = await rawRequest(`${gw.url}/api/events?access_token=not-a-token`);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).not.toContain('not-a-token');
  });

  it('is not taken on a route whose tokenFrom lists no parameter (401)', async () => {
    expect((await json(`/header-only/x?access_token=${token}`)).status).toBe(401);
    expect((await json(`/cookie-only/x?access_token=${token}`)).status).toBe(401);
  });

  it('goes with a streamed (chunked) upload, whose bytes reach the upstream intact', async () => {
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = require('node:http').request(`${gw.url}/api/upload?access_token=${token}&kind=fastq`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (r: IncomingMessage) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 30_000));
      setTimeout(() => req.end(body.subarray(30_000)), 20);
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.text) as { url: string; body: string };
    expect(seen.url).toBe('/api/upload?kind=fastq');
    expect(Buffer.from(seen.body, 'base64').equals(body)).toBe(true);
  });
});

describe('a token from a cookie', () => {
  it('is accepted and removed from the upstream Cookie header; the other cookies stay', async () => {
    const res = await json('/api/x', { cookie: `theme=dark; gw_token=${token}; lang=en` });
    expect(res.body).toMatchObject({ cookie: 'theme=dark; lang=en', user: 'user-42' });
  });

  it('leaves no Cookie header when it was the only cookie', async () => {
    const res = await json('/cookie-only/x', { cookie: `gw_token=${token}` });
    expect(res.body).toMatchObject({ cookie: null, user: 'user-42' });
  });
});

describe('precedence', () => {
  it('the Authorization header wins over a parameter and a cookie, which are still stripped', async () => {
    const res = await json(`/api/x?access_token=${token}`, { authorization: `Bearer ${other}`, cookie: `gw_token=${token}` });
    expect(res.body).toMatchObject({ url: '/api/x', cookie: null, user: 'user-7' });
  });

  it('a malformed Authorization header is refused, not replaced by the parameter', async () => {
    expect((await json(`/api/x?access_token=${token}`, { authorization: 'Basic abc' })).status).toBe(401);
  });

  it('with auth switched off the credentials are still not passed on', async () => {
    const res = await json(`/api/x?access_token=${token}&a=1`, { cookie: `gw_token=${token}; b=2` }, off);
    expect(res.body).toMatchObject({ url: '/api/x?a=1', cookie: 'b=2', user: null });
  });
});

describe('WebSocket upgrades', () => {
  function open(path: string, headers: Record<string, string> = {}): Promise<{ message?: string; status?: number }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, { headers });
      ws.on('message', (data) => {
        resolve({ message: String(data) });
        ws.close();
      });
      ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
      ws.on('error', reject);
    });
  }

  it('take the token from the parameter and forward the upgrade without it', async () => {
    const got = await open(`/live/feed?access_token=${token}&since=5`);
    expect(JSON.parse(got.message!)).toEqual({ user: 'user-42' });
    expect(upgrades.at(-1)).toEqual({ url: '/live/feed?since=5', cookie: undefined });
  });

  it('take the token from the cookie and forward the other cookies', async () => {
    const got = await open('/live/feed', { cookie: `gw_token=${token}; theme=dark` });
    expect(JSON.parse(got.message!)).toEqual({ user: 'user-42' });
    expect(upgrades.at(-1)).toEqual({ url: '/live/feed', cookie: 'theme=dark' });
  });

  it('are refused (401) without a token', async () => {
    expect((await open('/live/feed?since=5')).status).toBe(401);
  });
});

describe('logs', () => {
  it('no log line carries a token value, and the access lines of these requests are there', async () => {
    await rawRequest(`${gw.url}/api/logged?access_token=${token}&page=2`, { headers: { 'x-request-id': 'token-log-1' } });
    await rawRequest(`${gw.url}/api/logged`, { headers: { 'x-request-id': 'token-log-2', cookie: `gw_token=${token}` } });
    await rawRequest(`${gw.url}/api/logged?access_token=${other.slice(0, -4)}xxxx`, { headers: { 'x-request-id': 'token-log-3' } });
    await waitFor(() => gw.logs().filter((l) => String(l.requestId).startsWith('token-log-')).length >= 3, 3000, 'access lines');
    const lines = gw.logs().filter((l) => l.message === 'request' && String(l.requestId).startsWith('token-log-'));
    expect(lines.map((l) => [l.requestId, l.path, l.status, l.user]).sort()).toEqual([
      ['token-log-1', '/api/logged', 200, 'user-42'],
      ['token-log-2', '/api/logged', 200, 'user-42'],
      ['token-log-3', '/api/logged', 401, null],
    ]);
    const everything = JSON.stringify(gw.logs());
    for (const secret of [token, other.slice(0, -4), token.split('.')[2]]) expect(everything).not.toContain(secret);
  });
});
