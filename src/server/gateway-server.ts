import { randomUUID } from 'node:crypto';
import { createServer, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { compileGateway, compileGatewayBesideServing, CompiledGateway } from '../gateway/compile';
import type { GatewayConfig } from '../config/types';
import { parseDuration, parseSize } from '../config/units';
import { GatewayError } from '../errors/catalog';
import { writeProblemToSocket } from '../errors/problem';
import { LineWriter, Logger } from '../observability/logger';
import type { RuntimeDeps } from '../pipeline/types';
import { createDispatcher, createExpectationHandler, createManagementDispatcher, DispatchState } from './dispatcher';
import { createManagementApp } from './management';
import { createUpgradeHandler } from './upgrade';
import { GatewayMetrics } from '../observability/metrics';
import type { ConfigReloader, ReloadControl } from '../reload/reloader';
import type { HealthSnapshot } from '../upstream/health';

/**
 * How often node checks its connections against headersTimeout and requestTimeout. Node's default
 * (30 s) let a slowloris client live up to 30 s past a 2 s headersTimeout; at 500 ms the guards
 * fire within half a second of their time. The check walks node's list of connections with pending
 * requests, a few microseconds even with thousands open.
 */
const CONNECTION_CHECK_INTERVAL_MS = 500;

/**
 * How long a drain leaves idle keep-alive connections open (within drainTimeout): a client about
 * to reuse one gets its answer with Connection: close instead of a reset.
 */
const DRAIN_LINGER_MS = 1_000;

/** Health findings of every instance, by service name, then instance URL. */
export type HealthFindings = Record<string, Record<string, HealthSnapshot>>;

export interface GatewayServerOptions {
  adminToken?: string;
  /** Cluster worker: the primary runs the health checks; this process follows its findings. */
  followsHealth?: boolean;
  /** Cluster worker: /metrics answers the cluster's totals, which the primary assembles. */
  metricsText?: () => Promise<string>;
  /** Cluster worker: /admin/reload asks the primary, which reloads every worker. */
  reloader?: ReloadControl;
}

/** The process-wide dependencies of every compiled gateway. */
export function runtimeDeps(logger: Logger, metrics = new GatewayMetrics()): RuntimeDeps {
  return { logger, now: Date.now, metrics, accessLog: new LineWriter(logger) };
}

/**
 * The gateway process's server: one node http server whose request handler is the dispatcher,
 * the management app beside it, and graceful shutdown.
 */
export class GatewayServer {
  readonly server: Server;
  /** The management listener (gateway.managementPort), when configured. */
  readonly managementServer: Server | undefined;
  private gateway: CompiledGateway;
  /** Open client connections of the public port, so that a drain can end their keep-alive. */
  private readonly connections = new Set<Socket>();
  private readonly state: DispatchState;
  /** Set on SIGTERM: /ready answers 503 from then on, through the shutdown delay and the drain. */
  private isStopping = false;
  private readonly startedAt = Date.now();
  private readonly runtime: RuntimeDeps;
  private reloaderRef: ConfigReloader | undefined;
  private healthFindings: HealthFindings | undefined;
  readonly metrics: GatewayMetrics;

  constructor(
    config: GatewayConfig,
    private readonly logger: Logger,
    private readonly options: GatewayServerOptions = {},
  ) {
    this.metrics = new GatewayMetrics({ processMetrics: true });
    this.runtime = runtimeDeps(logger, this.metrics);
    this.gateway = compileGateway(config, this.runtime);
    const managementContext = {
      current: () => this.gateway,
      startedAt: this.startedAt,
      logger,
      adminToken: options.adminToken,
      metrics: () => this.metrics,
      reloader: () => this.reloaderRef ?? options.reloader,
      metricsText: options.metricsText,
      stopping: () => this.isStopping,
    };
    const management = createManagementApp({ ...managementContext, publicPort: true });
    this.state = {
      current: () => this.gateway,
      management: (req, res) => {
        management(req as never, res as never);
      },
      draining: () => this.isStopping,
      inFlight: 0,
    };
    const g = config.gateway;
    this.server = this.createNodeServer(config, createDispatcher(this.state));
    this.server.on(
      'upgrade',
      createUpgradeHandler(() => this.gateway),
    );
    const connections = this.connections;
    const forget = function forgetConnection(this: Socket) {
      connections.delete(this);
    };
    this.server.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.once('close', forget);
    });
    if (g.managementPort > 0) {
      const listenerApp = createManagementApp({ ...managementContext, publicPort: false });
      this.managementServer = this.createNodeServer(
        config,
        createManagementDispatcher(
          () => this.gateway,
          (req, res) => {
            listenerApp(req as never, res as never);
          },
        ),
      );
    }
    this.applyServerTimeouts(config);
    this.metrics.observe({ services: () => this.gateway.services.values(), inFlight: () => this.state.inFlight });
  }

  /**
   * A node server with the gateway's limits. `requireHostHeader` is off because node's own answer
   * to a missing Host is a bare 400: the framing checks answer it in the error format instead.
   */
  private createNodeServer(config: GatewayConfig, handler: Parameters<typeof createServer>[1]): Server {
    const g = config.gateway;
    const server = createServer(
      {
        maxHeaderSize: parseSize(g.maxHeaderSize),
        keepAlive: true,
        requestTimeout: parseDuration(g.requestTimeout),
        connectionsCheckingInterval: CONNECTION_CHECK_INTERVAL_MS,
        requireHostHeader: false,
      },
      handler,
    );
    server.on(
      'checkExpectation',
      createExpectationHandler(() => this.gateway),
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    return server;
  }

  /** Set on purpose: slow-header clients are cut off, idle keep-alive connections outlive a load
   * balancer's idle timeout in front of us, and the whole request has a deadline. */
  private applyServerTimeouts(config: GatewayConfig): void {
    const g = config.gateway;
    for (const server of [this.server, this.managementServer]) {
      if (server === undefined) continue;
      server.headersTimeout = parseDuration(g.headersTimeout) ?? 10_000;
      server.keepAliveTimeout = parseDuration(g.keepAliveTimeout) ?? 65_000;
      server.requestTimeout = parseDuration(g.requestTimeout) ?? 300_000;
      if (server.requestTimeout > 0 && server.headersTimeout > server.requestTimeout) server.headersTimeout = server.requestTimeout;
    }
  }

  get current(): CompiledGateway {
    return this.gateway;
  }

  /** The reloader of this server's routes file, once one is attached (`start` does). */
  attachReloader(reloader: ConfigReloader): void {
    this.reloaderRef = reloader;
    reloader.onOutcome = (outcome) => {
      this.metrics.reloads.inc({ result: outcome.result });
      if (outcome.result === 'success') this.metrics.lastReloadSuccess.set(Date.now() / 1000);
    };
  }

  /**
   * Hot reload: compiles a complete gateway from `config` beside the running one (taking over the
   * unchanged services and stores with their state), then swaps one reference. Requests already in
   * flight finish on the chain they started on; the old gateway's leftovers are released after.
   * A compile error throws before anything changed.
   */
  async swap(config: GatewayConfig): Promise<void> {
    const previous = this.gateway;
    const next = await compileGatewayBesideServing(config, this.runtime, previous);
    if (this.server.listening && !this.options.followsHealth) next.start();
    if (this.server.listening) next.documents.start();
    if (this.healthFindings) this.followHealth(this.healthFindings, next);
    this.gateway = next;
    this.applyServerTimeouts(config);
    await previous.retire();
    await this.metrics.forgetServices([...previous.services.keys()].filter((name) => !next.services.has(name)));
  }

  /**
   * Cluster mode: the primary's health findings, by service and instance URL. Instances follow
   * them instead of probing; a reload's new gateway takes the latest findings over at once.
   */
  followHealth(findings: HealthFindings, gateway = this.gateway): void {
    this.healthFindings = findings;
    for (const service of gateway.services.values()) {
      const byUrl = findings[service.name];
      if (byUrl === undefined) continue;
      for (const instance of service.instances) {
        const found = byUrl[instance.url];
        if (found !== undefined) instance.health.follow(found);
      }
    }
  }

  get inFlight(): number {
    return this.state.inFlight;
  }

  listen(port = this.gateway.config.gateway.port, host = this.gateway.config.gateway.host): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        if (!this.options.followsHealth) this.gateway.start();
        // Every process that serves /docs fetches the documents it shows (workers too).
        this.gateway.documents.start();
        this.logger.info('gateway listening', {
          host: address.address,
          port: address.port,
          environment: this.gateway.config.gateway.environment,
          routes: this.gateway.routes.length,
          services: this.gateway.services.size,
        });
        resolve(address);
      });
    });
  }

  /**
   * Starts the management listener, when gateway.managementPort is set. Resolves with its
   * address, or undefined when there is none.
   */
  listenManagement(port = this.gateway.config.gateway.managementPort, host = this.gateway.config.gateway.managementHost || this.gateway.config.gateway.host): Promise<AddressInfo | undefined> {
    const server = this.managementServer;
    if (server === undefined) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address() as AddressInfo;
        this.logger.info('management listener', { host: address.address, port: address.port });
        resolve(address);
      });
    });
  }

  /**
   * The start of a drain: every answer not yet begun closes its connection (node writes
   * `Connection: close` for a response whose shouldKeepAlive is false), so no client reuses a
   * connection the gateway is about to close. Answers begun before keep their head; requests that
   * arrive later are answered with Connection: close by the dispatcher.
   */
  private endKeepAlive(): void {
    for (const socket of this.connections) {
      const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res && !res.headersSent) res.shouldKeepAlive = false;
    }
  }

  /** Malformed requests never reach the dispatcher; they still get a problem+json answer. */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // A request whose head was read (a body that never completed) keeps its own id.
    const current = (socket as Socket & { _httpMessage?: { req?: { id?: unknown } } | null })._httpMessage?.req?.id;
    const requestId = typeof current === 'string' ? current : randomUUID();
    const error =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new GatewayError('GW_HEADERS_TOO_LARGE', 'The request headers exceed the gateway limit (gateway.maxHeaderSize)')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new GatewayError('GW_REQUEST_TIMEOUT', 'The request was not received completely within gateway.requestTimeout')
          : new GatewayError('GW_BAD_REQUEST', `The request could not be parsed (${err.code ?? 'parse error'})`);
    this.logger.info('client error', { requestId, status: error.status, code: err.code, clientIp: socket.remoteAddress });
    writeProblemToSocket(socket, error, '', requestId);
  }

  /**
   * Graceful stop. First the shutdown delay: /ready answers 503 at once while new connections are
   * still accepted and served (a load balancer, Kubernetes' endpoints among them, takes a moment to
   * stop sending new ones; refusing them then would fail requests during every rolling update),
   * each answer with Connection: close so clients move on. Then the drain: no new connections,
   * in-flight requests finish (up to the drain timeout, then connections are closed), upstream
   * pools are closed last.
   */
  async stop(drainMs = parseDuration(this.gateway.config.gateway.drainTimeout) ?? 15_000, delayMs = parseDuration(this.gateway.config.gateway.shutdownDelay) ?? 0): Promise<void> {
    if (this.isStopping) return;
    this.isStopping = true;
    if (delayMs > 0 && this.server.listening) {
      this.logger.info('gateway stopping: not ready, still serving', { shutdownDelayMs: delayMs });
      this.endKeepAlive();
      await new Promise((r) => setTimeout(r, delayMs));
    }
    this.logger.info('gateway draining', { inFlight: this.state.inFlight, drainTimeoutMs: drainMs });
    // net's close, not http's: it stops accepting but leaves idle keep-alive connections open,
    // where http's would close them at once and reset any request a client is sending on one.
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(this.server, () => resolve()));
    this.endKeepAlive();
    const started = Date.now();
    const deadline = started + drainMs;
    const lingerUntil = started + Math.min(DRAIN_LINGER_MS, drainMs);
    // Each answer from now on says Connection: close, so busy clients leave by themselves; idle
    // connections are given the linger to send one more request (answered, then closed).
    while (Date.now() < deadline && (this.state.inFlight > 0 || (this.connections.size > 0 && Date.now() < lingerUntil))) {
      await new Promise((r) => setTimeout(r, 25));
    }
    if (this.state.inFlight > 0) this.logger.warn('drain timeout reached; closing remaining connections', { inFlight: this.state.inFlight });
    this.server.close(); // http's close now: it also stops node's connection checks
    this.server.closeAllConnections();
    await closed;
    if (this.managementServer?.listening) {
      const managementClosed = new Promise<void>((resolve) => this.managementServer!.close(() => resolve()));
      this.managementServer.closeAllConnections();
      await managementClosed;
    }
    this.runtime.accessLog.flush();
    await this.gateway.close();
    this.logger.info('gateway stopped');
  }
}
