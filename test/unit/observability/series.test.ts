import { Counter, Histogram, Registry } from 'prom-client';
import { CounterSeries, HistogramSeries } from '../../../src/observability/series';

/**
 * The request path's own series must expose exactly what prom-client's Counter and Histogram
 * expose for the same observations: prom-client is the oracle here.
 */
const BOUNDS = [0.001, 0.01, 0.1, 1];
// Values on, below and above each bound, and past the last one.
const OBSERVATIONS = [0, 0.001, 0.0010001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 1.5, 30];

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  return { ours, theirs };
}

it('a histogram exposes the same text as prom-client for values on and between bounds', async () => {
  const { ours, theirs } = pair();
  const mine = new HistogramSeries('d_seconds', 'help', ['service', 'route'], BOUNDS, ours);
  const reference = new Histogram({ name: 'd_seconds', help: 'help', labelNames: ['service', 'route'], buckets: BOUNDS, registers: [theirs] });
  const child = mine.labels({ service: 'a', route: 'r1' });
  for (const v of OBSERVATIONS) {
    child.observe(v);
    reference.observe({ service: 'a', route: 'r1' }, v);
  }
  mine.observe({ service: 'b', route: 'r2' }, 0.2);
  reference.observe({ service: 'b', route: 'r2' }, 0.2);
  expect(await ours.metrics()).toBe(await theirs.metrics());
});

it('a counter exposes the same text as prom-client, and remove() drops one series', async () => {
  const { ours, theirs } = pair();
  const mine = new CounterSeries('r_total', 'help', ['method', 'status'], ours);
  const reference = new Counter({ name: 'r_total', help: 'help', labelNames: ['method', 'status'], registers: [theirs] });
  const ok = mine.labels({ method: 'GET', status: '200' });
  for (let i = 0; i < 5; i++) {
    ok.inc();
    reference.inc({ method: 'GET', status: '200' });
  }
  mine.inc({ method: 'POST', status: '502' }, 2);
  reference.inc({ method: 'POST', status: '502' }, 2);
  expect(await ours.metrics()).toBe(await theirs.metrics());

  mine.remove({ method: 'POST', status: '502' });
  reference.remove({ method: 'POST', status: '502' });
  expect(await ours.metrics()).toBe(await theirs.metrics());
  expect(await ours.metrics()).toContain('r_total{method="GET",status="200"} 5');
});
