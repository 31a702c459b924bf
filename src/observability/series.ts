import type { MetricValue, MetricValueWithName, Registry } from 'prom-client';

/**
 * The request path's counters and histograms, exposed through prom-client's registry like every
 * other metric. prom-client's own label children hash their label values and re-check them on every
 * `inc`/`observe` (three of those per request were a measurable cost); a child here is resolved once
 * and recording into it is an addition.
 */
type Labels<L extends string> = Record<L, string>;

/** What prom-client's registry reads from a metric when it is scraped. */
interface Exposition<V> {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: V[];
}

abstract class LabelledSeries<L extends string, Child> {
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, { labels: Labels<L>; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  protected abstract createChild(): Child;

  private keyOf(labels: Partial<Labels<L>>): string {
    return this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
  }

  /** The child for these label values; keep it, recording into it costs nothing more. */
  labels(labels: Labels<L>): Child {
    const key = this.keyOf(labels);
    let entry = this.children.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, child: this.createChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  /** Drops one series (extra labels such as `le` are ignored). */
  remove(labels: Partial<Labels<L>>): void {
    this.children.delete(this.keyOf(labels));
  }
}

export class CounterChild {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class CounterSeries<L extends string> extends LabelledSeries<L, CounterChild> {
  readonly type = 'counter' as const;

  protected createChild(): CounterChild {
    return new CounterChild();
  }

  inc(labels: Labels<L>, by = 1): void {
    this.labels(labels).inc(by);
  }

  // prom-client's registry awaits get() on every metric; async turns a throw into a rejection it handles.
  // eslint-disable-next-line @typescript-eslint/require-await
  async get(): Promise<Exposition<MetricValue<L>>> {
    const values: MetricValue<L>[] = [];
    for (const { labels, child } of this.children.values()) values.push({ labels, value: child.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramSeries<L extends string> extends LabelledSeries<L, HistogramChild> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  protected createChild(): HistogramChild {
    return new HistogramChild(this.bounds);
  }

  observe(labels: Labels<L>, value: number): void {
    this.labels(labels).observe(value);
  }

  // prom-client's registry awaits get() on every metric; async turns a throw into a rejection it handles.
  // eslint-disable-next-line @typescript-eslint/require-await
  async get(): Promise<Exposition<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += child.counts[i];
        const le = i < this.bounds.length ? this.bounds[i] : '+Inf';
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
