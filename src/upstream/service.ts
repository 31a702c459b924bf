import { Agent, Pool } from './undici';
import type { ServiceConfig } from '../config/types';
import type { Logger } from '../observability/logger';
import { Balancer, createBalancer } from './balancer';
import { CircuitBreaker, CircuitState } from './circuit-breaker';
import { HealthCheck, HealthStatus } from './health';

/** What an upstream service needs from its surroundings. */
export interface UpstreamDeps {
  logger: Logger;
  now: () => number;
}

/** One instance of an upstream service: its keep-alive pool, health checks and circuit breaker. */
export class UpstreamInstance {
  readonly origin: string;
  inFlight = 0;
  private poolInstance: Pool | undefined;
  readonly health: HealthCheck;
  readonly breaker: CircuitBreaker;

  constructor(
    readonly service: string,
    readonly url: string,
    readonly weight: number,
    readonly connections: number,
    config: ServiceConfig,
    checkAgent: Agent,
    deps: UpstreamDeps,
  ) {
    this.origin = new URL(url).origin;
    this.health = new HealthCheck(this.origin, config.healthCheck, checkAgent, deps.now, (t) =>
      deps.logger.warn('instance health changed', { service, instance: url, from: t.from, to: t.to, reason: t.reason }),
    );
    this.breaker = new CircuitBreaker(config.circuitBreaker, deps.now, (t) =>
      deps.logger.warn('circuit breaker state changed', { service, instance: url, from: t.from, to: t.to, reason: t.reason }),
    );
  }

  /** Created on first use: a gateway whose upstream is never called opens no sockets. */
  get pool(): Pool {
    this.poolInstance ??= new Pool(this.origin, {
      connections: this.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: 5_000 },
    });
    return this.poolInstance;
  }

  /** In rotation: not failed by active checks, and the circuit lets a request through. */
  available(): boolean {
    return this.health.usable && this.breaker.allowsRequest();
  }

  async close(): Promise<void> {
    this.health.stop();
    const pool = this.poolInstance;
    this.poolInstance = undefined;
    if (pool) await pool.close().catch(() => pool.destroy());
  }
}

export type ServiceStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface InstanceView {
  url: string;
  weight: number;
  available: boolean;
  health: HealthStatus;
  circuit: CircuitState;
  inFlight: number;
  lastCheck: string | null;
  lastError: string | null;
  consecutiveFailedChecks: number;
  consecutiveFailedRequests: number;
}

export class UpstreamService {
  readonly instances: UpstreamInstance[];
  readonly balancer: Balancer<UpstreamInstance>;
  /** Health probes use their own small agent, so a saturated request pool cannot fail them. */
  private readonly checkAgent = new Agent({ connections: 1, keepAliveTimeout: 5_000 });

  constructor(
    readonly name: string,
    readonly config: ServiceConfig,
    readonly loadBalancingEnabled: boolean,
    deps: UpstreamDeps,
  ) {
    this.instances = config.instances.map(
      (i) => new UpstreamInstance(name, i.url, i.weight, config.connections, config, this.checkAgent, deps),
    );
    this.balancer = createBalancer(config.loadBalancer, this.instances, loadBalancingEnabled);
  }

  get algorithm(): string {
    return this.loadBalancingEnabled ? this.config.loadBalancer : 'first_available';
  }

  startHealthChecks(): void {
    for (const i of this.instances) i.health.start();
  }

  /** healthy: every instance in rotation; degraded: some out; unhealthy: none left. */
  status(): ServiceStatus {
    const available = this.instances.filter((i) => i.available()).length;
    if (available === this.instances.length) return 'healthy';
    return available === 0 ? 'unhealthy' : 'degraded';
  }

  view(): InstanceView[] {
    return this.instances.map((i) => ({
      url: i.url,
      weight: i.weight,
      available: i.available(),
      health: i.health.status,
      circuit: i.breaker.state,
      inFlight: i.inFlight,
      lastCheck: i.health.lastCheckAt === undefined ? null : new Date(i.health.lastCheckAt).toISOString(),
      lastError: i.health.lastError ?? null,
      consecutiveFailedChecks: i.health.consecutiveFailures,
      consecutiveFailedRequests: i.breaker.consecutiveFailures,
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.close()));
    await this.checkAgent.close().catch(() => this.checkAgent.destroy());
  }
}
