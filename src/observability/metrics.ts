import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CircuitState } from '../upstream/circuit-breaker';
import { CounterSeries, HistogramSeries } from './series';
import type { UpstreamService } from '../upstream/service';

/** Label for requests no route matched: label values stay bounded, never the raw path. */
export const UNMATCHED = 'unmatched';
const NO_SERVICE = 'none';

const CIRCUIT_VALUES: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };
const HEALTH_STATUSES = ['healthy', 'unhealthy', 'unknown'] as const;
/** Seconds, from a cache hit at the gateway (1 ms) to the longest upstream timeout worth telling apart (30 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the gauges read at scrape time. */
export interface MetricsSource {
  services(): Iterable<UpstreamService>;
  inFlight(): number;
}

/**
 * The gateway's Prometheus metrics, one registry per process (not per config: counters must survive
 * a reload). Names are a contract with dashboards and alerts; see the README. Gauges that describe
 * the running config are computed when scraped, so a removed service's series disappear with it.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** The three series every proxied request records into (see series.ts for why not prom-client's). */
  readonly requests: CounterSeries<'method' | 'service' | 'route' | 'status'>;
  readonly requestDuration: HistogramSeries<'service' | 'route'>;
  readonly upstreamDuration: HistogramSeries<'service' | 'upstream'>;
  readonly errors: Counter<'service' | 'error_type'>;
  readonly rateLimited: Counter<'route' | 'key_type'>;
  readonly rateLimitStoreErrors: Counter;
  readonly retries: Counter<'service'>;
  readonly discoveryErrors: Counter<'service' | 'error'>;
  readonly reloads: Counter<'result'>;
  readonly lastReloadSuccess: Gauge;
  readonly openApiFetches: Counter<'service' | 'result'>;
  private source: MetricsSource = { services: () => [], inFlight: () => 0 };

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // prom-client calls a gauge's collect() with the gauge as `this`: the registry is reached by name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const metrics = this;
    this.requests = new CounterSeries('gateway_requests_total', 'Requests answered, by method, service, route and status.', ['method', 'service', 'route', 'status'], this.registry);
    this.requestDuration = new HistogramSeries(
      'gateway_request_duration_seconds',
      'Time from the request reaching the gateway to the response being complete.',
      ['service', 'route'],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.upstreamDuration = new HistogramSeries(
      'gateway_upstream_duration_seconds',
      'Time from sending a request to an instance to its response headers.',
      ['service', 'upstream'],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.errors = new Counter({
      name: 'gateway_errors_total',
      help: 'Errors the gateway answered with, by service and type (timeout, connection_refused, rate_limited, ...).',
      labelNames: ['service', 'error_type'],
      registers,
    });
    new Gauge({
      name: 'service_health_status',
      // Cluster mode adds up the workers' series; a state or a time is not a count: the highest wins.
      aggregator: 'max',
      help: 'Active health of each instance: 1 for its current status (healthy, unhealthy, unknown), 0 otherwise.',
      labelNames: ['service', 'upstream', 'status'],
      registers,
      collect() {
        this.reset();
        for (const s of metrics.source.services()) {
          for (const i of s.instances) {
            for (const status of HEALTH_STATUSES) this.set({ service: s.name, upstream: i.url, status }, i.health.status === status ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: 'gateway_circuit_breaker_state',
      // Cluster mode adds up the workers' series; a state or a time is not a count: the highest wins.
      aggregator: 'max',
      help: 'Circuit state of each instance: 0 closed, 1 half-open, 2 open.',
      labelNames: ['service', 'upstream'],
      registers,
      collect() {
        this.reset();
        for (const s of metrics.source.services()) {
          for (const i of s.instances) this.set({ service: s.name, upstream: i.url }, CIRCUIT_VALUES[i.breaker.state]);
        }
      },
    });
    new Gauge({
      name: 'gateway_requests_in_flight',
      help: 'Proxied requests in flight now.',
      registers,
      collect() {
        this.set(metrics.source.inFlight());
      },
    });
    this.rateLimited = new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused with 429, by route and rate-limit key type.',
      labelNames: ['route', 'key_type'],
      registers,
    });
    this.rateLimitStoreErrors = new Counter({
      name: 'gateway_ratelimit_store_errors_total',
      help: 'Rate-limit store (Redis) failures; requests were then allowed or denied per onStoreError.',
      registers,
    });
    new Gauge({
      name: 'gateway_service_instances',
      // Cluster mode adds up the workers' series; each worker finds the same set: the highest wins.
      aggregator: 'max',
      help: 'Instances each service has now (listed, or found by discovery), in rotation or not.',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const s of metrics.source.services()) this.set({ service: s.name }, s.instances.length);
      },
    });
    this.discoveryErrors = new Counter({
      name: 'gateway_discovery_errors_total',
      help: 'Failed service discovery lookups, by service and error (ENOTFOUND, ESERVFAIL, ETIMEOUT, ...); the last instances found keep serving.',
      labelNames: ['service', 'error'],
      registers,
    });
    this.retries = new Counter({
      name: 'gateway_retries_total',
      help: 'Upstream attempts beyond the first, by service.',
      labelNames: ['service'],
      registers,
    });
    this.reloads = new Counter({
      name: 'gateway_config_reloads_total',
      help: 'Config reloads by result (success, failure, restart_required).',
      labelNames: ['result'],
      registers,
    });
    this.lastReloadSuccess = new Gauge({
      name: 'gateway_config_last_reload_success_timestamp_seconds',
      // Cluster mode adds up the workers' series; a state or a time is not a count: the highest wins.
      aggregator: 'max',
      help: 'When the running config was loaded (Unix time).',
      registers,
    });
    this.lastReloadSuccess.set(Date.now() / 1000);
    this.openApiFetches = new Counter({
      name: 'gateway_openapi_fetches_total',
      help: "Fetches of services' own OpenAPI documents (services.<name>.openapi), by service and result (success, failure).",
      labelNames: ['service', 'result'],
      registers,
    });
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool
      // flags them); the same figures stay available, per type, as nodejs_active_handles,
      // nodejs_active_requests and nodejs_active_resources.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(name);
      }
    }
  }

  /** Where the scrape-time gauges read the running gateway from. */
  observe(source: MetricsSource): void {
    this.source = source;
  }

  discoveryFailed(service: string, code: string): void {
    this.discoveryErrors.inc({ service, error: code });
  }

  error(service: string | undefined, type: string): void {
    this.errors.inc({ service: service ?? NO_SERVICE, error_type: type });
  }

  /** Drops the series of services a reload removed, so dashboards stop showing them. */
  async forgetServices(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const gone = new Set(names);
    for (const metric of [this.requests, this.requestDuration, this.upstreamDuration, this.errors, this.retries] as const) {
      const { values } = await metric.get();
      const seen = new Set<string>();
      for (const v of values) {
        const service = String(v.labels.service ?? '');
        if (!gone.has(service)) continue;
        const labels = { ...v.labels } as Record<string, string | number>;
        delete labels.le;
        const key = JSON.stringify(labels);
        if (seen.has(key)) continue;
        seen.add(key);
        (metric as { remove(labels: Record<string, string | number>): void }).remove(labels);
      }
    }
  }
}
