import type { CounterChild, HistogramChild } from './series';
import type { GatewayMetrics } from './metrics';

/**
 * One route's metric series, resolved once per compiled config: looking up label children per
 * request (hashing four label values) was a measurable cost on the request path.
 */
export class RouteMetrics {
  private readonly duration: HistogramChild;
  private readonly counters = new Map<string, CounterChild>();
  /** The last method and status recorded and their counter: almost every answer repeats them. */
  private lastMethod = '';
  private lastStatus = 0;
  private lastCounter: CounterChild | undefined;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly service: string,
    private readonly route: string,
  ) {
    this.duration = metrics.requestDuration.labels({ service, route });
  }

  record(method: string, status: number, seconds: number): void {
    this.duration.observe(seconds);
    if (status === this.lastStatus && method === this.lastMethod) {
      this.lastCounter!.inc();
      return;
    }
    const key = method + status;
    let counter = this.counters.get(key);
    if (!counter) {
      counter = this.metrics.requests.labels({ method, service: this.service, route: this.route, status: String(status) });
      this.counters.set(key, counter);
    }
    counter.inc();
    this.lastMethod = method;
    this.lastStatus = status;
    this.lastCounter = counter;
  }
}
