import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { compileGateway, type CompiledGateway } from '../../src/gateway/compile';
import { silentLogger } from '../../src/observability/logger';
import { composeChain } from '../../src/pipeline/chain';
import { STAGES } from '../../src/pipeline';
import type { CompiledRoute, GatewayRequest, Handler, RequestUser, StageDeps } from '../../src/pipeline/types';
import { runtimeDeps } from '../../src/server/gateway-server';
import { initRequest } from '../../src/server/request-context';
import { configFrom } from './gateway';

/**
 * One route from YAML, its stages run in process on a node request/response pair with no socket
 * behind them: node's own IncomingMessage and ServerResponse, on a stream that records what the
 * response writes. The chain stops where the upstream call would start (balance and proxy need
 * instances on sockets); what reached that point is returned as `forwarded`.
 */
export interface HarnessRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The peer address the request comes from. */
  remoteAddress?: string;
}

export interface HarnessAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The request as the upstream call would have started with it; undefined when a stage answered. */
  forwarded?: { url: string; headers: IncomingMessage['headers']; user: RequestUser | undefined; body: Buffer | undefined };
  /** Names of the stages that ran for this route (before the upstream call). */
  stages: string[];
}

const UPSTREAM_STAGES = new Set(['balance', 'proxy']);

/** A stream standing in for the client connection: collects the bytes the response writes. */
class RecordingSocket extends Duplex {
  readonly written: Buffer[] = [];
  constructor(readonly remoteAddress: string) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.written.push(chunk);
    callback();
  }
}

/** Status, headers and (de-chunked) body of the HTTP/1.1 bytes a response wrote. */
function parseAnswer(raw: Buffer): Pick<HarnessAnswer, 'status' | 'headers' | 'body'> {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let out = '';
    for (let at = 0; ;) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = parseInt(body.slice(at, lineEnd), 16);
      if (!size) break;
      out += body.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
    body = out;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

export class StageHarness {
  readonly gateway: CompiledGateway;
  readonly route: CompiledRoute;
  private readonly chain: CompiledRoute['handle'];
  private readonly names: string[] = [];
  private forwarded: HarnessAnswer['forwarded'];

  /** Compiles the config; `routeName` defaults to its first route. */
  constructor(yaml: string, routeName?: string, env: Record<string, string> = {}) {
    const config = configFrom(yaml, env);
    this.gateway = compileGateway(config, runtimeDeps(silentLogger()));
    const route = routeName === undefined ? this.gateway.routes[0] : this.gateway.routes.find((r) => r.name === routeName);
    if (!route) throw new Error(`no route named ${routeName}`);
    this.route = route;
    const perConfig = new Map<string, unknown>();
    const deps: StageDeps = {
      ...this.gateway.deps,
      services: this.gateway.services,
      shared: <T>(key: string, create: () => T): T => {
        if (!perConfig.has(key)) perConfig.set(key, create());
        return perConfig.get(key) as T;
      },
    };
    const handlers: Handler[] = [];
    for (const stage of STAGES) {
      if (UPSTREAM_STAGES.has(stage.name)) continue;
      const request = stage.create(route, config, deps)?.request;
      if (request) {
        handlers.push(request);
        this.names.push(stage.name);
      }
    }
    handlers.push((req, res) => {
      this.forwarded = { url: req.url ?? '', headers: { ...req.headers }, user: req.user, body: req.body };
      res.writeHead(204, req.answerHeaders === undefined ? {} : Object.fromEntries(req.answerHeaders));
      res.end();
    });
    this.chain = composeChain(handlers);
  }

  /** Runs the route's stages on one request; resolves once the response has ended. */
  run(request: HarnessRequest): Promise<HarnessAnswer> {
    this.forwarded = undefined;
    const socket = new RecordingSocket(request.remoteAddress ?? '127.0.0.1');
    const raw = new IncomingMessage(socket as never);
    raw.method = request.method ?? 'GET';
    raw.url = request.url;
    raw.httpVersion = '1.1';
    raw.httpVersionMajor = 1;
    raw.httpVersionMinor = 1;
    raw.headers = { host: 'gateway.test', ...Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) };
    if (request.body !== undefined) raw.push(request.body);
    raw.push(null);
    const res = new ServerResponse(raw);
    res.assignSocket(socket as never);
    const req: GatewayRequest = initRequest(raw, this.gateway);
    req.gatewayRoute = this.route;
    return new Promise((resolve) => {
      res.on('finish', () => resolve({ ...parseAnswer(Buffer.concat(socket.written)), forwarded: this.forwarded, stages: [...this.names] }));
      this.chain(req, res, this.gateway.fail);
    });
  }

  /** Releases what the compiled gateway holds (pools, stores). */
  close(): Promise<void> {
    return this.gateway.close();
  }
}
