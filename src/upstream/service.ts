import { Agent, Pool } from './undici';
import type { ServiceConfig } from '../config/types';
import type { Logger } from '../observability/logger';
import { Balancer, createBalancer } from './balancer';
import { CircuitBreaker, CircuitState } from './circuit-breaker';
import { HealthCheck, HealthStatus } from './health';
import { DiscoveryView, InstanceSource, InstanceSpec, listedInstances } from './instance-source';

/** What an upstream service needs from its surroundings. */
export interface UpstreamDeps {
  logger: Logger;
  now: () => number;
}

/** One instance of an upstream service: its keep-alive pool, health checks and circuit breaker. */
export class UpstreamInstance {
  readonly origin: string;
  inFlight = 0;
  /** Set by a source that discovers instances: an SRV record's weight may change. */
  weight: number;
  /** Its gateway_upstream_duration_seconds series, set by the proxy on the first answer timed. */
  durationSeries: { observe(seconds: number): void } | undefined = undefined;
  private poolInstance: Pool | undefined;
  readonly health: HealthCheck;
  readonly breaker: CircuitBreaker;

  constructor(
    readonly service: string,
    readonly url: string,
    weight: number,
    readonly connections: number,
    config: ServiceConfig,
    checkAgent: Agent,
    deps: UpstreamDeps,
  ) {
    this.weight = weight;
    this.origin = new URL(url).origin;
    this.health = new HealthCheck(this.origin, config.healthCheck, checkAgent, deps.now, (t) =>
      deps.logger.warn('instance health changed', { service, instance: url, from: t.from, to: t.to, reason: t.reason }),
    );
    this.breaker = new CircuitBreaker(config.circuitBreaker, deps.now, (t) => deps.logger.warn('circuit breaker state changed', { service, instance: url, from: t.from, to: t.to, reason: t.reason }));
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

/**
 * One upstream service: its instances, as its source says they are, and the balancer over them.
 * When the source changes the set (DNS discovery), an instance that stays (same URL) keeps its
 * pool, health, circuit state and in-flight count; a new one starts `unknown` and is health-checked;
 * one that left gets no new request from that moment and its pool closes once its requests are done.
 */
export class UpstreamService {
  private list: UpstreamInstance[] = [];
  private balancerOf: Balancer<UpstreamInstance>;
  /** Health probes use their own small agent, so a saturated request pool cannot fail them. */
  private readonly checkAgent = new Agent({ connections: 1, keepAliveTimeout: 5_000 });
  private checksStarted = false;
  private closed = false;
  readonly source: InstanceSource;
  /** The `Host` header of requests to a discovered instance: the name, not the address; else undefined. */
  readonly hostHeader: string | undefined;

  constructor(
    readonly name: string,
    readonly config: ServiceConfig,
    readonly loadBalancingEnabled: boolean,
    private readonly deps: UpstreamDeps,
    source?: InstanceSource,
  ) {
    this.source = source ?? listedInstances(config.instances);
    this.hostHeader = this.source.hostHeader;
    this.list = this.source.current().map((spec) => this.instanceFor(spec));
    this.balancerOf = createBalancer(config.loadBalancer, this.list, loadBalancingEnabled);
    this.source.onChange((specs) => this.follow(specs));
  }

  /** The instances in rotation now; a new array whenever the set changes (never mutated in place). */
  get instances(): readonly UpstreamInstance[] {
    return this.list;
  }

  /** Rebuilt with each new set, so per-index state (round robin's position) always fits the list. */
  get balancer(): Balancer<UpstreamInstance> {
    return this.balancerOf;
  }

  get discovery(): DiscoveryView | null {
    return this.source.view();
  }

  get algorithm(): string {
    return this.loadBalancingEnabled ? this.config.loadBalancer : 'first_available';
  }

  private instanceFor(spec: InstanceSpec): UpstreamInstance {
    return new UpstreamInstance(this.name, spec.url, spec.weight, this.config.connections, this.config, this.checkAgent, this.deps);
  }

  private follow(specs: readonly InstanceSpec[]): void {
    if (this.closed) return;
    const byUrl = new Map(this.list.map((i) => [i.url, i]));
    const next = specs.map((spec) => {
      const kept = byUrl.get(spec.url);
      if (kept === undefined) {
        const added = this.instanceFor(spec);
        if (this.checksStarted) added.health.start();
        return added;
      }
      byUrl.delete(spec.url);
      kept.weight = spec.weight;
      return kept;
    });
    this.list = next;
    this.balancerOf = createBalancer(this.config.loadBalancer, next, this.loadBalancingEnabled);
    // undici's close waits for the requests the pool is still serving, then closes its sockets.
    for (const removed of byUrl.values()) void removed.close();
  }

  startHealthChecks(): void {
    this.checksStarted = true;
    for (const i of this.list) i.health.start();
    this.source.start();
  }

  /**
   * healthy: every instance in rotation; degraded: some out; unhealthy: none left, which is also
   * a discovered service without instances (its name does not resolve yet, or has no address).
   */
  status(): ServiceStatus {
    const available = this.list.filter((i) => i.available()).length;
    if (available === 0) return 'unhealthy';
    return available === this.list.length ? 'healthy' : 'degraded';
  }

  view(): InstanceView[] {
    return this.list.map((i) => ({
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
    this.closed = true;
    this.source.stop();
    await Promise.all(this.list.map((i) => i.close()));
    await this.checkAgent.close().catch(() => this.checkAgent.destroy());
  }
}
