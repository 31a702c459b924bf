import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { DEMO_JWT_SECRET, DEMO_USER } from '../../src/demo/demo-user';
import { createStandIn, listen } from '../../src/demo/stand-in';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { ROOT } from '../helpers/process';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** The lab frontend's development origin, which the shipped CORS settings allow. */
const FRONTEND_PORT = 3000;
/** Any other origin: the shipped settings do not allow it. */
const STRANGER_PORT = 3001;

const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs the Debian package chromium`);
  console.warn(`skipped outside CI: ${CHROMIUM} not installed (apt-get install chromium)`);
}

/** The one browser API the page code uses that node's types lack (this project compiles without the DOM library). */
declare const XMLHttpRequest: new () => {
  open(method: string, url: string): void;
  withCredentials: boolean;
  setRequestHeader(name: string, value: string): void;
  onload: () => void;
  onerror: () => void;
  send(): void;
  readonly status: number;
  readonly responseText: string;
  getResponseHeader(name: string): string | null;
};

/** The `cors` block of the shipped routes.yaml, as written there. */
const shippedCors = (yaml.load(readFileSync(join(ROOT, 'routes.yaml'), 'utf8')) as { cors: unknown }).cors;

/** A bare page for an origin: the test drives it with page.evaluate, as a frontend's code would run. */
async function servePage(port: number, title: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>${title}</title></head><body>${title}</body></html>`);
  });
  try {
    await listen(server, port);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `127.0.0.1:${port} is taken: this test serves its page on http://localhost:${port}, the origin the shipped CORS settings name; stop what listens there and run it again`
        : `cannot serve the test page on 127.0.0.1:${port}: ${String(err)}`,
    );
  }
  return server;
}

(available ? describe : describe.skip)('the lab frontend in Chromium, against the shipped CORS settings', () => {
  const servers: Server[] = [];
  /** What the samples service received: URL, user header and raw body of each request. */
  const received: { url: string; user: string | undefined; contentType: string | undefined; body: Buffer }[] = [];
  let gw: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;

  beforeAll(async () => {
    // Pages first: if port 3000 is taken, the test says so before starting anything else.
    servers.push(await servePage(FRONTEND_PORT, 'lab frontend'));
    servers.push(await servePage(STRANGER_PORT, 'another site'));
    const auth = createStandIn({ service: 'auth', issuesTokens: true });
    const notifications = createStandIn({ service: 'notifications' });
    const samples = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        received.push({ url: req.url ?? '', user: req.headers['x-user-id'] as string | undefined, contentType: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url, user: req.headers['x-user-id'] ?? null, bodyBytes: body.length }));
      });
    });
    const ports = await Promise.all([auth, notifications, samples].map((s) => listen(s, 0)));
    servers.push(auth, notifications, samples);
    gw = await startGateway(
      configFrom(`
version: 1
defaults:
  auth: { required: true }
cors: ${JSON.stringify(shippedCors)}
auth:
  jwt: { secret: ${JSON.stringify(DEMO_JWT_SECRET)}, algorithms: [HS256], issuer: tracseq-auth }
  forwardClaims: { X-User-Id: sub }
services:
  auth: { instances: ["http://127.0.0.1:${ports[0]}"] }
  notifications: { instances: ["http://127.0.0.1:${ports[1]}"] }
  samples: { instances: ["http://127.0.0.1:${ports[2]}"] }
routes:
  - { name: auth, path: /auth, service: auth, rewrite: /api/v1, auth: { required: false } }
  - { name: samples, path: /samples, service: samples, rewrite: /api/v1 }
  - name: notification-events
    path: /notifications/events
    service: notifications
    rewrite: /api/v1/events
    streamIdleTimeout: 1h
    auth: { tokenFrom: { query: [access_token] } }
  - { name: notifications, path: /notifications, service: notifications, rewrite: /api/v1, websocket: true, auth: { tokenFrom: { query: [access_token] } } }
`),
    );
    userDataDir = mkdtempSync(join(tmpdir(), 'gw-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    // No context.route() here: with request interception on, Playwright answers CORS preflights
    // itself and allows them, so the gateway's refusal would never reach the browser.
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://localhost:${FRONTEND_PORT}/`);
  }, 30_000);

  afterAll(async () => {
    await context?.close();
    await gw?.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** Logs in through the Auth Service stand-in, from the page, as the frontend does. */
  async function logIn(): Promise<string> {
    return page.evaluate(
      async ({ api, username, password }) => {
        const res = await fetch(`${api}/auth/login`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
        if (!res.ok) throw new Error(`login answered ${res.status}`);
        return ((await res.json()) as { access_token: string }).access_token;
      },
      { api: gw.url, username: DEMO_USER.username, password: DEMO_USER.password },
    );
  }

  it('logs in, then calls a route with the bearer header (an axios-style XHR with credentials)', async () => {
    const token = await logIn();
    const got = await page.evaluate(
      ({ api, token }) =>
        new Promise<{ status: number; body: string; requestId: string | null }>((resolve, reject) => {
          const xhr = new XMLHttpRequest();
          xhr.open('GET', `${api}/samples/list?page=1`);
          xhr.withCredentials = true;
          xhr.setRequestHeader('Authorization', `Bearer ${token}`);
          xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText, requestId: xhr.getResponseHeader('x-request-id') });
          xhr.onerror = () => reject(new Error('the XHR failed (CORS?)'));
          xhr.send();
        }),
      { api: gw.url, token },
    );
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toMatchObject({ url: '/api/v1/list?page=1', user: DEMO_USER.sub });
    expect(got.requestId).toMatch(/\S/); // exposed by cors.exposeHeaders
  }, 20_000);

  it('receives server-sent events through EventSource, the token in the query', async () => {
    const token = await logIn();
    const events = await page.evaluate(
      ({ api, token }) =>
        new Promise<string[]>((resolve, reject) => {
          const data: string[] = [];
          const source = new EventSource(`${api}/notifications/events?access_token=${encodeURIComponent(token)}`, { withCredentials: true });
          source.onmessage = (e) => {
            data.push(e.data as string);
            if (data.length === 3) {
              source.close();
              resolve(data);
            }
          };
          source.onerror = () => {
            source.close();
            reject(new Error(`EventSource failed after ${data.length} events`));
          };
        }),
      { api: gw.url, token },
    );
    expect(events.map((e) => JSON.parse(e))).toEqual([1, 2, 3].map((event) => ({ service: 'notifications', event })));
    await waitFor(() => gw.logs().some((l) => l.message === 'request' && l.route === 'notification-events'), 3000, "the stream's access line");
    const line = gw.logs().find((l) => l.message === 'request' && l.route === 'notification-events')!;
    expect(line).toMatchObject({ path: '/notifications/events', user: DEMO_USER.sub });
    expect(JSON.stringify(gw.logs())).not.toContain(token);
  }, 20_000);

  it('receives messages through WebSocket, the token in the query, which the service never sees', async () => {
    const token = await logIn();
    const messages = await page.evaluate(
      ({ ws, token }) =>
        new Promise<string[]>((resolve, reject) => {
          const got: string[] = [];
          const socket = new WebSocket(`${ws}/notifications/live?access_token=${encodeURIComponent(token)}&since=7`);
          socket.onmessage = (e) => {
            got.push(e.data as string);
            if (got.length === 1) socket.send('ping from the frontend');
            else {
              socket.close();
              resolve(got);
            }
          };
          socket.onerror = () => reject(new Error('the WebSocket failed'));
        }),
      { ws: gw.url.replace('http:', 'ws:'), token },
    );
    expect(JSON.parse(messages[0])).toMatchObject({ service: 'notifications', path: '/api/v1/live?since=7', hello: true });
    expect(messages[1]).toBe('ping from the frontend');
  }, 20_000);

  it('uploads a FormData file whose bytes reach the service intact', async () => {
    const token = await logIn();
    const size = 200_000;
    const answer = await page.evaluate(
      async ({ api, token, size }) => {
        const bytes = new Uint8Array(size);
        for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) % 256;
        const form = new FormData();
        form.append('sampleId', 'S-42');
        form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'reads.fastq');
        const res = await fetch(`${api}/samples/upload`, { method: 'POST', credentials: 'include', headers: { Authorization: `Bearer ${token}` }, body: form });
        return { status: res.status, body: (await res.json()) as { url: string; user: string } };
      },
      { api: gw.url, token, size },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ url: '/api/v1/upload', user: DEMO_USER.sub });
    const upload = received.find((r) => r.url === '/api/v1/upload')!;
    const boundary = /boundary=(.+)$/.exec(upload.contentType ?? '')?.[1];
    expect(boundary).toBeDefined();
    const expected = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) % 256));
    // The file part: its headers, a blank line, the bytes, then the closing boundary.
    const part = upload.body
      .toString('latin1')
      .split(`--${boundary}`)
      .find((p) => p.includes('filename="reads.fastq"'))!;
    const content = Buffer.from(part.slice(part.indexOf('\r\n\r\n') + 4, -2), 'latin1');
    expect(content.equals(expected)).toBe(true);
  }, 20_000);

  it('refuses a page of another origin: fetch fails CORS, the WebSocket upgrade gets 403', async () => {
    const token = await logIn();
    const before = received.length;
    const stranger = await context.newPage();
    try {
      await stranger.goto(`http://127.0.0.1:${STRANGER_PORT}/`);
      const outcome = await stranger.evaluate(
        async ({ api, ws, token }) => {
          const fetched = await fetch(`${api}/samples/list`, { credentials: 'include', headers: { Authorization: `Bearer ${token}` } }).then(
            (r) => `answered ${r.status}`,
            (e: Error) => `refused: ${e.name}`,
          );
          const socket = await new Promise<string>((resolve) => {
            const s = new WebSocket(`${ws}/notifications/live?access_token=${encodeURIComponent(token)}`);
            s.onopen = () => {
              s.close();
              resolve('opened');
            };
            s.onclose = (e) => resolve(`closed ${e.code}`);
          });
          return { fetched, socket };
        },
        { api: gw.url, ws: gw.url.replace('http:', 'ws:'), token },
      );
      expect(outcome).toEqual({ fetched: 'refused: TypeError', socket: 'closed 1006' });
      expect(received.slice(before).map((r) => r.url)).toEqual([]); // the preflight was refused; the service saw nothing
      await waitFor(() => gw.logs().some((l) => l.message === 'upgrade refused' && l.status === 403), 3000, 'the refused upgrade');
    } finally {
      await stranger.close();
    }
  }, 20_000);
});
