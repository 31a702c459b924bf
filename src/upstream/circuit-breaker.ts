import type { ServiceConfig } from '../config/types';
import { parseDuration } from '../config/units';
import { RollingCount } from './rolling-count';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitTransition {
  from: CircuitState;
  to: CircuitState;
  reason: string;
}

/**
 * Passive failure detection for one instance. Closed → open when, within the rolling window, at
 * least `minimumRequests` requests were made and the last `failureThreshold` of them failed in a
 * row. Open for `openFor`, then half-open: up to `halfOpenRequests` trial requests; a success closes
 * the circuit, a failure opens it again for twice as long (capped at `maxOpenFor`). Recovery needs
 * no operator: time alone moves an open circuit to half-open.
 */
export class CircuitBreaker {
  private stateValue: CircuitState = 'closed';
  private consecutive = 0;
  private openUntil = 0;
  private trialsInFlight = 0;
  private readonly baseOpenMs: number;
  private readonly maxOpenMs: number;
  private openMs: number;
  private readonly requests: RollingCount;

  constructor(
    private readonly config: ServiceConfig['circuitBreaker'],
    private readonly now: () => number,
    private readonly onTransition: (t: CircuitTransition) => void,
  ) {
    this.baseOpenMs = parseDuration(config.openFor) ?? 30_000;
    this.maxOpenMs = Math.max(this.baseOpenMs, parseDuration(config.maxOpenFor) ?? 300_000);
    this.openMs = this.baseOpenMs;
    this.requests = new RollingCount(parseDuration(config.window) ?? 60_000);
  }

  get state(): CircuitState {
    if (this.stateValue === 'open' && this.now() >= this.openUntil) {
      this.move('half_open', `open for ${this.openMs} ms`);
    }
    return this.stateValue;
  }

  get consecutiveFailures(): number {
    return this.consecutive;
  }

  /** Whether a new request may go to this instance now. */
  allowsRequest(): boolean {
    if (!this.config.enabled) return true;
    const state = this.state;
    if (state === 'closed') return true;
    return state === 'half_open' && this.trialsInFlight < this.config.halfOpenRequests;
  }

  /** A request was sent; in half-open it takes one of the trial slots. */
  onStart(): void {
    if (!this.config.enabled) return;
    this.requests.add(this.now());
    if (this.state === 'half_open') this.trialsInFlight++;
  }

  onSuccess(): void {
    if (!this.config.enabled) return;
    this.consecutive = 0;
    if (this.state === 'half_open') {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.openMs = this.baseOpenMs;
      this.move('closed', 'trial request succeeded');
    }
  }

  onFailure(reason: string): void {
    if (!this.config.enabled) return;
    this.consecutive++;
    if (this.state === 'half_open') {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.openMs = Math.min(this.openMs * 2, this.maxOpenMs);
      this.open(`trial request failed: ${reason}`);
      return;
    }
    if (this.stateValue === 'closed' && this.consecutive >= this.config.failureThreshold && this.requests.total(this.now()) >= this.config.minimumRequests) {
      this.open(`${this.consecutive} consecutive failures, last: ${reason}`);
    }
  }

  /** A request ended without telling anything about the instance (the client went away). */
  onAbandon(): void {
    if (this.stateValue === 'half_open') this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
  }

  private open(reason: string): void {
    this.openUntil = this.now() + this.openMs;
    this.move('open', reason);
  }

  private move(to: CircuitState, reason: string): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    if (to !== 'half_open') this.trialsInFlight = 0;
    this.onTransition({ from, to, reason });
  }
}
