import { Agent, smallRequest } from './undici';
import type { ServiceConfig } from '../config/types';
import { parseDuration } from '../config/units';
import { upstreamErrorCode } from './upstream-error';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** What one instance's checks have found, as another process's copy of them takes it over. */
export interface HealthSnapshot {
  status: HealthStatus;
  lastCheckAt: number | undefined;
  lastError: string | undefined;
  consecutiveFailures: number;
}

export interface HealthTransition {
  from: HealthStatus;
  to: HealthStatus;
  reason: string;
}

/**
 * Active health checks of one instance: `GET <path>` every `interval` (with ±10% jitter so a fleet
 * of instances is not probed in lock step), never two at once for one instance. An instance is
 * unhealthy after `unhealthyThreshold` consecutive failures and healthy again after
 * `healthyThreshold` consecutive successes. Until the first verdict it is `unknown` and receives
 * traffic.
 */
export class HealthCheck {
  private statusValue: HealthStatus = 'unknown';
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  /** Set when another process runs the checks and this copy only follows its findings. */
  private following = false;
  private abort: AbortController | undefined;
  lastCheckAt: number | undefined;
  lastError: string | undefined;

  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly origin: string,
    private readonly config: ServiceConfig['healthCheck'],
    private readonly agent: Agent,
    private readonly now: () => number,
    private readonly onTransition: (t: HealthTransition) => void,
  ) {
    this.intervalMs = parseDuration(config.interval) ?? 30_000;
    this.timeoutMs = parseDuration(config.timeout) ?? 2_000;
  }

  get status(): HealthStatus {
    return this.statusValue;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Whether active checks allow traffic to this instance. */
  get usable(): boolean {
    return this.statusValue !== 'unhealthy';
  }

  start(): void {
    if (!this.config.enabled || !this.stopped || this.following) return;
    this.stopped = false;
    // The first probe comes soon (jittered within 100 ms), so a dead instance is found early.
    this.schedule(Math.random() * Math.min(100, this.intervalMs));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
  }

  /** This instance's findings, to hand to the processes that follow them. */
  snapshot(): HealthSnapshot {
    return { status: this.statusValue, lastCheckAt: this.lastCheckAt, lastError: this.lastError, consecutiveFailures: this.failures };
  }

  /**
   * Takes over the findings of the process that runs the checks (cluster mode: the primary probes
   * once for all workers). From then on this copy never probes; transitions are logged where the
   * checks run, not once per follower.
   */
  follow(snapshot: HealthSnapshot): void {
    this.following = true;
    this.stop();
    this.statusValue = snapshot.status;
    this.lastCheckAt = snapshot.lastCheckAt;
    this.lastError = snapshot.lastError;
    this.failures = snapshot.consecutiveFailures;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), delay);
    this.timer.unref();
  }

  private nextDelay(): number {
    return this.intervalMs * (0.9 + Math.random() * 0.2);
  }

  /** One probe; the next one is scheduled only after this one is over, so they never overlap. */
  async probe(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    const timeout = setTimeout(() => this.abort?.abort(), this.timeoutMs);
    let failure: string | undefined;
    try {
      const res = await smallRequest(this.agent, {
        origin: this.origin,
        path: this.config.path,
        method: 'GET',
        signal: this.abort.signal,
        headers: { 'user-agent': 'tracseq-gateway-health' },
        maxBytes: 0,
      });
      if (!this.config.expectStatus.includes(res.statusCode)) failure = `status ${res.statusCode}`;
    } catch (err) {
      failure = this.abort.signal.aborted ? `no answer within ${this.timeoutMs} ms` : upstreamErrorCode(err) || (err as Error)?.message || 'error';
    } finally {
      clearTimeout(timeout);
      this.running = false;
    }
    if (this.stopped) return;
    this.lastCheckAt = this.now();
    this.record(failure);
    this.schedule(this.nextDelay());
  }

  private record(failure: string | undefined): void {
    if (failure === undefined) {
      this.successes++;
      this.failures = 0;
      if (this.statusValue !== 'healthy' && (this.statusValue === 'unknown' || this.successes >= this.config.healthyThreshold)) {
        this.move('healthy', `${this.successes} consecutive successful checks`);
      }
    } else {
      this.failures++;
      this.successes = 0;
      this.lastError = failure;
      if (this.statusValue !== 'unhealthy' && this.failures >= this.config.unhealthyThreshold) {
        this.move('unhealthy', `${this.failures} consecutive failed checks, last: ${failure}`);
      }
    }
  }

  private move(to: HealthStatus, reason: string): void {
    const from = this.statusValue;
    this.statusValue = to;
    this.onTransition({ from, to, reason });
  }
}
