import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { WebSocketServer } from 'ws';
import { DEMO_JWT_SECRET, DEMO_USER } from './demo-user';
import { STAND_IN_OPENAPI_PATH, standInDocument } from './stand-in-openapi';

export interface StandInOptions {
  service: string;
  instanceId?: string;
  /** When set, POST /api/v1/login issues HS256 tokens for the demo user (the auth stand-in). */
  issuesTokens?: boolean;
  jwtSecret?: string;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendProblem(res: ServerResponse, status: number, title: string, detail: string, instance: string): void {
  const text = JSON.stringify({ type: 'https://tracseq.dev/problems/invalid-credentials', title, status, detail, instance });
  res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      } catch {
        resolve({});
      }
    });
  });
}

/**
 * A TracSeq service stand-in: answers /health, publishes its OpenAPI document at /openapi.json,
 * echoes every /api/v1/* request as JSON (what the
 * service would have received: method, path, query, headers, body size and sha256), streams
 * server-sent events at /api/v1/events and echoes WebSocket messages.
 */
export function createStandIn(options: StandInOptions): Server {
  const instance = options.instanceId ?? `${options.service}-1`;
  const secret = options.jwtSecret ?? DEMO_JWT_SECRET;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (url.pathname === '/health') return sendJson(res, 200, { status: 'ok', service: options.service, instance });
    if (url.pathname === STAND_IN_OPENAPI_PATH) return sendJson(res, 200, standInDocument(options.service, options.issuesTokens === true));

    if (options.issuesTokens && req.method === 'POST' && url.pathname === '/api/v1/login') {
      void readJson(req).then((body) => {
        if (body.username !== DEMO_USER.username || body.password !== DEMO_USER.password) {
          // As a client sees every other error of the lab system: RFC 9457 problem+json.
          return sendProblem(res, 401, 'Invalid credentials', 'The username or password is wrong', url.pathname);
        }
        const token = jwt.sign({ email: DEMO_USER.email, roles: DEMO_USER.roles }, secret, {
          algorithm: 'HS256',
          subject: DEMO_USER.sub,
          expiresIn: '1h',
          issuer: 'tracseq-auth',
        });
        sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      });
      return;
    }

    if (url.pathname === '/api/v1/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const timer = setInterval(() => {
        n++;
        res.write(`id: ${n}\ndata: ${JSON.stringify({ service: options.service, event: n })}\n\n`);
        if (n === 5) {
          clearInterval(timer);
          res.end();
        }
      }, 200);
      res.on('close', () => clearInterval(timer));
      return;
    }

    if (!url.pathname.startsWith('/api/v1')) return sendJson(res, 404, { error: 'not_found', path: url.pathname });

    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () =>
      sendJson(res, 200, {
        service: options.service,
        instance,
        method: req.method,
        path: url.pathname,
        rawUrl: req.url,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        bodyBytes: bytes,
        bodySha256: hash.digest('hex'),
      }),
    );
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ service: options.service, instance, path: req.url, hello: true }));
      ws.on('message', (data) => ws.send(data.toString()));
    });
  });
  server.on('close', () => wss.close());
  return server;
}

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
