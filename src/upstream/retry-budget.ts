import type { RetryPolicy } from '../config/types';
import { RollingCount } from './rolling-count';

/**
 * Caps retries so that a whole service being down does not turn every request into several: a
 * retry is allowed while retries stay under `ratio` of the requests of the last 10 s, and always
 * up to `minPerSecond` per second so that low traffic can still retry.
 */
export class RetryBudget {
  private readonly requests = new RollingCount(10_000);
  private readonly retries = new RollingCount(10_000);
  private readonly recentRetries = new RollingCount(1_000);

  constructor(
    private readonly budget: RetryPolicy['budget'],
    private readonly now: () => number,
  ) {}

  recordRequest(): void {
    this.requests.add(this.now());
  }

  tryAcquire(): boolean {
    const now = this.now();
    const allowed = this.recentRetries.total(now) < this.budget.minPerSecond || this.retries.total(now) < this.budget.ratio * this.requests.total(now);
    if (allowed) {
      this.retries.add(now);
      this.recentRetries.add(now);
    }
    return allowed;
  }
}
