import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import request from 'supertest';
import { dashboardAndAlertExpressions, DOCKER } from '../helpers/dashboard-queries';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * A real Prometheus (Debian's package) scrapes a gateway with two instances per service, with the
 * shipped scrape config (only its target changed), and its HTTP API is asked what it stored: one
 * series per upstream instance under the `upstream` label, no `exported_instance`, and every
 * dashboard query returns data.
 */
const prometheusBin = spawnSync('sh', ['-c', 'command -v prometheus']).stdout.toString().trim();
if (!prometheusBin && process.env.CI === 'true') throw new Error('prometheus is missing: .ci/run installs the Debian package prometheus');
const describeWithPrometheus = prometheusBin ? describe : describe.skip;

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

let upstreams: TestUpstream[] = [];
let gw: RunningGateway;
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';
let dataDir = '';

async function query(expr: string): Promise<Series[]> {
  const res = await request(prometheusUrl).get('/api/v1/query').query({ query: expr });
  expect(res.status).toBe(200);
  return (res.body as { data: { result: Series[] } }).data.result;
}

describeWithPrometheus('metrics after a real Prometheus scrape', () => {
  beforeAll(async () => {
    upstreams = await Promise.all([0, 1, 2, 3].map(() => startUpstream()));
    const managementPort = await closedPort();
    gw = await startGateway(
      configFrom(`version: 1
gateway: { managementPort: ${managementPort}, managementHost: 127.0.0.1 }
services:
  samples: { instances: ["${upstreams[0].url}", "${upstreams[1].url}"], healthCheck: { interval: 1s } }
  storage: { instances: ["${upstreams[2].url}", "${upstreams[3].url}"], healthCheck: { interval: 1s } }
routes:
  - { name: samples, path: /samples, service: samples }
  - { name: storage, path: /storage, service: storage }
`),
    );
    await gw.server.listenManagement();
    for (let i = 0; i < 8; i++) {
      await request(gw.url).get(`/samples/list/${i}`).expect(200);
      await request(gw.url).post(`/storage/put/${i}`).send({ i }).expect(200);
    }

    // The shipped scrape config, pointed at this gateway's management listener, scraped every second.
    const shipped = yaml.load(readFileSync(join(DOCKER, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
    };
    const job = shipped.scrape_configs[0];
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ ...job, static_configs: [{ ...job.static_configs[0], targets: [`127.0.0.1:${managementPort}`] }] }],
    };
    dataDir = mkdtempSync(join(tmpdir(), 'gw-prometheus-'));
    writeFileSync(join(dataDir, 'prometheus.yml'), yaml.dump(config));
    const port = await closedPort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      prometheusBin,
      [`--config.file=${join(dataDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: 'ignore' },
    );
    // Two scrapes at least, so rates over the samples exist.
    let scrapes = 0;
    await waitFor(
      () => {
        void query('up').then(
          (r) => (scrapes = r.length > 0 && r[0].value[1] === '1' ? scrapes + 1 : scrapes),
          () => undefined,
        );
        return scrapes >= 3;
      },
      30_000,
      'Prometheus scraping the gateway',
    );
    await new Promise((r) => setTimeout(r, 2_500));
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await gw?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([['gateway_upstream_duration_seconds_count'], ['service_health_status'], ['gateway_circuit_breaker_state']])(
    '%s has one series per upstream instance under `upstream`, none under exported_instance',
    async (metric) => {
      const series = await query(metric === 'service_health_status' ? `${metric}{status="healthy"}` : metric);
      const byUpstream = new Set(series.map((s) => `${s.metric.service} ${s.metric.upstream}`));
      expect([...byUpstream].sort()).toEqual([...upstreams.slice(0, 2).map((u) => `samples ${u.url}`), ...upstreams.slice(2).map((u) => `storage ${u.url}`)].sort());
      expect(series.some((s) => 'exported_instance' in s.metric)).toBe(false);
      // Prometheus' own `instance` names the scraped gateway.
      expect(new Set(series.map((s) => s.metric.instance)).size).toBe(1);
    },
  );

  it('every dashboard panel query returns data', async () => {
    const panels = dashboardAndAlertExpressions().filter((e) => e.where.startsWith('dashboard panel'));
    const empty: string[] = [];
    for (const { where, expr } of panels) {
      // As Grafana would send them: every service, a rate window that spans several scrapes.
      const concrete = expr
        .replace(/\$service/g, '.*')
        .replace(/\$__rate_interval/g, '10s')
        .replace(/\$__range/g, '1m');
      const result = await query(concrete);
      if (result.length === 0) empty.push(`${where}: ${concrete}`);
    }
    // Panels about what this gateway did not do (429s, reload failures) may be empty; the
    // per-upstream ones must not be.
    const perUpstream = empty.filter((e) => /upstream|Health per instance|Circuit breaker/.test(e));
    expect(perUpstream).toEqual([]);
    expect(empty.length).toBeLessThan(panels.length / 2);
  });
});
