import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { ALERTS, dashboardAndAlertExpressions, DOCKER } from '../helpers/dashboard-queries';

/** promtool from the Debian package prometheus; outside CI its absence skips (and says so). */
function promtool(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v promtool']).stdout.toString().trim();
  if (found) return found;
  if (process.env.CI === 'true') throw new Error('promtool is missing: .ci/run installs the Debian package prometheus');
  console.warn('skipped outside CI: promtool not installed (apt-get install prometheus)');
  return undefined;
}

const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names a PromQL expression reads: what is left once strings, label matchers, range and
 * subquery brackets, grouping lists, function calls, numbers and keywords are taken out. Grafana's
 * `label_values(metric, label)` template queries read their first argument.
 */
export function metricNames(expr: string): string[] {
  const labelValues = /^\s*label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(expr);
  if (labelValues) return [labelValues[1]];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b[a-zA-Z_][\w]*\s*\(/g, ' (')
    .replace(/\b\d+(\.\d+)?([eE][+-]?\d+)?\b/g, ' ');
  const names = (stripped.match(/[a-zA-Z_:][\w:]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w.toLowerCase()));
  return [...new Set(names)];
}

/** The sample names /metrics exposes: a histogram `h` as h_bucket, h_sum and h_count. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (m[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[1] + suffix);
    else if (m[2] === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(m[1] + suffix);
    else names.add(m[1]);
  }
  return names;
}

describe('metricNames (the extractor the next test relies on)', () => {
  it.each([
    ['a rate by label', 'sum by (service) (rate(gateway_requests_total{status=~"5..", service!="none"}[5m]))', ['gateway_requests_total']],
    [
      'a quantile of buckets',
      'histogram_quantile(0.99, sum by (route, le) (rate(gateway_request_duration_seconds_bucket{service=~"$service"}[$__rate_interval])))',
      ['gateway_request_duration_seconds_bucket'],
    ],
    ['a ratio with on()', 'sum by (service) (a_total) == 0 and on (service) sum by (service) (b{status="x"}) > 0', ['a_total', 'b']],
    ['time() minus a gauge', 'time() - gateway_config_last_reload_success_timestamp_seconds', ['gateway_config_last_reload_success_timestamp_seconds']],
    ['a template query', 'label_values(gateway_requests_total, service)', ['gateway_requests_total']],
  ])('%s', (_name, expr, expected) => {
    expect(metricNames(expr)).toEqual(expected);
  });
});

describe('dashboard and alert expressions', () => {
  let gw: RunningGateway;
  let exposed: Set<string>;

  beforeAll(async () => {
    gw = await startGateway(
      configFrom(`
version: 1
auth: { enabled: false }
services:
  samples: { instances: ["http://127.0.0.1:9"], healthCheck: { enabled: false } }
routes:
  - { name: samples, path: /samples, service: samples }
`),
    );
    const res = await request(gw.url).get('/metrics');
    expect(res.status).toBe(200);
    exposed = exposedNames(res.text);
  });

  afterAll(async () => {
    await gw.stop();
  });

  const all = dashboardAndAlertExpressions();

  it('cover every panel the issue asks for and all five alerts', () => {
    const used = new Set(all.flatMap((e) => metricNames(e.expr)));
    for (const name of [
      'gateway_requests_total',
      'gateway_request_duration_seconds_bucket',
      'gateway_upstream_duration_seconds_bucket',
      'service_health_status',
      'gateway_circuit_breaker_state',
      'gateway_rate_limited_total',
      'gateway_requests_in_flight',
      'gateway_config_reloads_total',
    ]) {
      expect(used).toContain(name);
    }
    expect(all.filter((e) => e.where.startsWith('alert')).length).toBe(5);
  });

  it.each(all.map((e) => [e.where, e.expr]))('%s reads only metrics a running gateway exposes', (_where, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !exposed.has(n))).toEqual([]);
  });
});

describe('promtool', () => {
  it('check rules accepts docker/prometheus/alerts.yml', () => {
    const bin = promtool();
    if (!bin) return;
    const out = execFileSync(bin, ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS: 5 rules found');
  });

  it('check config accepts docker/prometheus.yml (and the rule file it names)', () => {
    const bin = promtool();
    if (!bin) return;
    const out = execFileSync(bin, ['check', 'config', join(DOCKER, 'prometheus.yml')], { encoding: 'utf8' });
    expect(out).toContain('is valid prometheus config file syntax');
    expect(out).toContain('SUCCESS: 5 rules found');
  });
});
