import type { ServerResponse } from 'node:http';
import type { GatewayMetrics } from '../observability/metrics';
import type { GatewayRequest } from '../pipeline/types';
import { RetryBudget } from './retry-budget';
import type { UpstreamInstance, UpstreamService } from './service';

/** A route's `retry` settings. */
export interface RetrySettings {
  methods: readonly string[];
  on: readonly number[];
  attempts: number;
  budget: ConstructorParameters<typeof RetryBudget>[0];
}

/**
 * When a failed attempt of a route goes to another instance: the method may be retried, the
 * attempts are not used up, the retry budget has room, and there is an instance to go to.
 */
export class RetryPolicy {
  readonly methods: ReadonlySet<string>;
  /** Upstream statuses that are retried like a failed connection. */
  readonly statuses: ReadonlySet<number>;
  /** Undefined when the route makes one attempt only. */
  readonly budget: RetryBudget | undefined;
  readonly attempts: number;
  private readonly counter;

  constructor(
    settings: RetrySettings,
    private readonly service: UpstreamService,
    metrics: GatewayMetrics,
    now: () => number,
  ) {
    this.methods = new Set(settings.methods);
    this.statuses = new Set(settings.on);
    this.attempts = settings.attempts;
    this.budget = settings.attempts > 1 ? new RetryBudget(settings.budget, now) : undefined;
    this.counter = metrics.retries.labels({ service: service.name });
  }

  /** The instance for one more attempt, budget taken; undefined when the request is not retried. */
  retarget(req: GatewayRequest, res: ServerResponse, replayable: boolean, failedOn: UpstreamInstance): UpstreamInstance | undefined {
    if (!replayable || req.retries + 1 >= this.attempts || res.destroyed) return undefined;
    const target = this.nextInstance(failedOn);
    if (!target || !this.budget?.tryAcquire()) return undefined;
    return target;
  }

  /** Counts a retry that was started. */
  counted(): void {
    this.counter.inc();
  }

  /** The instance for the next attempt: another one when it exists, else the only one. */
  private nextInstance(previous: UpstreamInstance): UpstreamInstance | undefined {
    const other = this.service.balancer.pick(previous);
    if (other) return other;
    return this.service.instances.length === 1 && previous.available() ? previous : undefined;
  }
}
