import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { compileGateway, CompiledGateway } from '../config/compile';
import type { GatewayConfig } from '../config/types';
import { parseDuration, parseSize } from '../config/units';
import { GatewayError } from '../errors/catalog';
import { writeProblemToSocket } from '../errors/problem';
import { LineWriter, Logger } from '../observability/logger';
import type { RuntimeDeps } from '../pipeline/types';
import { createDispatcher, DispatchState } from './dispatcher';
import { createManagementApp } from './management';
import { createUpgradeHandler } from './upgrade';
import { GatewayMetrics } from '../observability/metrics';
import type { ConfigReloader } from '../reload/reloader';

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
  private gateway: CompiledGateway;
  private readonly state: DispatchState;
  private isDraining = false;
  private readonly startedAt = Date.now();
  private readonly runtime: RuntimeDeps;
  private reloaderRef: ConfigReloader | undefined;
  readonly metrics: GatewayMetrics;

  constructor(
    config: GatewayConfig,
    private readonly logger: Logger,
    options: { adminToken?: string } = {},
  ) {
    this.metrics = new GatewayMetrics({ processMetrics: true });
    this.runtime = runtimeDeps(logger, this.metrics);
    this.gateway = compileGateway(config, this.runtime);
    const management = createManagementApp({
      current: () => this.gateway,
      startedAt: this.startedAt,
      logger,
      adminToken: options.adminToken,
      metrics: () => this.metrics,
      reloader: () => this.reloaderRef,
    });
    this.state = {
      current: () => this.gateway,
      management: (req, res) => management(req as never, res as never),
      draining: () => this.isDraining,
      inFlight: 0,
    };
    const g = config.gateway;
    this.server = createServer(
      { maxHeaderSize: parseSize(g.maxHeaderSize), keepAlive: true, requestTimeout: parseDuration(g.requestTimeout) },
      createDispatcher(this.state),
    );
    this.applyServerTimeouts(config);
    this.metrics.observe({ services: () => this.gateway.services.values(), inFlight: () => this.state.inFlight });
    this.server.on('upgrade', createUpgradeHandler(() => this.gateway));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
  }

  /** Set on purpose: slow-header clients are cut off, idle keep-alive connections outlive a load
   * balancer's idle timeout in front of us, and the whole request has a deadline. */
  private applyServerTimeouts(config: GatewayConfig): void {
    const g = config.gateway;
    this.server.headersTimeout = parseDuration(g.headersTimeout) ?? 10_000;
    this.server.keepAliveTimeout = parseDuration(g.keepAliveTimeout) ?? 65_000;
    this.server.requestTimeout = parseDuration(g.requestTimeout) ?? 300_000;
    if (this.server.requestTimeout > 0 && this.server.headersTimeout > this.server.requestTimeout) {
      this.server.headersTimeout = this.server.requestTimeout;
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
    const next = compileGateway(config, this.runtime, previous);
    if (this.server.listening) next.start();
    this.gateway = next;
    this.applyServerTimeouts(config);
    await previous.retire();
    await this.metrics.forgetServices([...previous.services.keys()].filter((name) => !next.services.has(name)));
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
        this.gateway.start();
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

  /** Malformed requests never reach the dispatcher; they still get a problem+json answer. */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const requestId = randomUUID();
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
   * Graceful stop: no new connections, in-flight requests finish (up to the drain timeout, then
   * connections are closed), upstream pools are closed last.
   */
  async stop(drainMs = parseDuration(this.gateway.config.gateway.drainTimeout) ?? 15_000): Promise<void> {
    if (this.isDraining) return;
    this.isDraining = true;
    this.logger.info('gateway draining', { inFlight: this.state.inFlight, drainTimeoutMs: drainMs });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + drainMs;
    while (this.state.inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      this.server.closeIdleConnections();
    }
    if (this.state.inFlight > 0) this.logger.warn('drain timeout reached; closing remaining connections', { inFlight: this.state.inFlight });
    this.server.closeAllConnections();
    await closed;
    this.runtime.accessLog.flush();
    await this.gateway.close();
    this.logger.info('gateway stopped');
  }
}
