import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';
import { mint } from '../helpers/tokens';

let upstream: TestUpstream;
let gw: RunningGateway;
const SECRET = 'metrics-test-secret';

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    req.resume();
    if (req.url?.startsWith('/slow')) return; // never answers: 504
    res.end('ok');
  });
  const dead = await closedPort();
  gw = await startGateway(
    configFrom(`
version: 1
auth: { jwt: { secret: "${SECRET}", algorithms: [HS256] } }
defaults: { retry: { attempts: 1 } }
services:
  samples: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
  dead: { instances: ["http://127.0.0.1:${dead}"], healthCheck: { enabled: false } }
routes:
  - { name: samples, path: /samples, service: samples }
  - { name: secure, path: /secure, service: samples, auth: { required: true } }
  - { name: slow, path: /slow, service: samples, timeout: 200ms }
  - { name: dead, path: /dead, service: dead }
`),
  );
});

afterAll(async () => {
  await gw.stop();
  await upstream.close();
});

/** Sample value of `name{labels}` in Prometheus text output; 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    const got = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const keys = Object.keys(labels);
    if (keys.length === Object.keys(got).length && keys.every((k) => got[k] === labels[k])) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('GET /metrics', () => {
  let text: string;

  beforeAll(async () => {
    const token = mint({ sub: 'user-7', exp: Math.floor(Date.now() / 1000) + 300 }, SECRET, 'HS256');
    for (let i = 0; i < 3; i++) await request(gw.url).get('/samples/x');
    await request(gw.url).post('/samples/y').send('z');
    await request(gw.url).get('/nowhere');
    await request(gw.url).get('/nowhere/else');
    await request(gw.url).get('/secure/x');
    await request(gw.url).get('/secure/x').set('authorization', `Bearer ${token}`);
    await request(gw.url).get('/dead/x');
    await request(gw.url).get('/slow/x');
    await request(gw.url).get('/health');
    const res = await request(gw.url).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    text = res.text;
  });

  it.each([
    ['3 GET 200 on samples', 'gateway_requests_total', { method: 'GET', service: 'samples', route: 'samples', status: '200' }, 3],
    ['1 POST 200 on samples', 'gateway_requests_total', { method: 'POST', service: 'samples', route: 'samples', status: '200' }, 1],
    ['2 unmatched 404s', 'gateway_requests_total', { method: 'GET', service: 'none', route: 'unmatched', status: '404' }, 2],
    ['1 401 on secure', 'gateway_requests_total', { method: 'GET', service: 'samples', route: 'secure', status: '401' }, 1],
    ['1 200 on secure with a token', 'gateway_requests_total', { method: 'GET', service: 'samples', route: 'secure', status: '200' }, 1],
    ['1 502 on dead', 'gateway_requests_total', { method: 'GET', service: 'dead', route: 'dead', status: '502' }, 1],
    ['1 504 on slow', 'gateway_requests_total', { method: 'GET', service: 'samples', route: 'slow', status: '504' }, 1],
    ['duration count on samples', 'gateway_request_duration_seconds_count', { service: 'samples', route: 'samples' }, 4],
    ['duration count of unmatched', 'gateway_request_duration_seconds_count', { service: 'none', route: 'unmatched' }, 2],
    ['upstream timings of the samples instance (3 + 1 + 1)', 'gateway_upstream_duration_seconds_count', { service: 'samples', upstream: '' }, 5],
    ['not_found errors', 'gateway_errors_total', { service: 'none', error_type: 'not_found' }, 2],
    ['unauthorized errors', 'gateway_errors_total', { service: 'samples', error_type: 'unauthorized' }, 1],
    ['connection_refused errors', 'gateway_errors_total', { service: 'dead', error_type: 'connection_refused' }, 1],
    ['timeout errors', 'gateway_errors_total', { service: 'samples', error_type: 'timeout' }, 1],
    ['circuit state of samples (closed)', 'gateway_circuit_breaker_state', { service: 'samples', upstream: '' }, 0],
    ['health of samples (unknown: checks off)', 'service_health_status', { service: 'samples', upstream: '', status: 'unknown' }, 1],
    ['health of samples (not healthy)', 'service_health_status', { service: 'samples', upstream: '', status: 'healthy' }, 0],
  ])('%s', (_name, metric, labels, expected) => {
    const withInstance = { ...labels } as Record<string, string>;
    if ('upstream' in withInstance) withInstance.upstream = upstream.url;
    expect(sample(text, metric, withInstance)).toBe(expected);
  });

  it('does not count successful management calls (health probes, scrapes)', () => {
    expect(text).not.toMatch(/gateway_requests_total\{[^}]*status="200"[^}]*route="unmatched"/);
    expect(text).not.toContain('route="/health"');
  });

  it('has the documented names, the in-flight gauge and process metrics', () => {
    for (const name of [
      'gateway_requests_total',
      'gateway_request_duration_seconds',
      'gateway_upstream_duration_seconds',
      'gateway_errors_total',
      'service_health_status',
      'gateway_circuit_breaker_state',
      'gateway_requests_in_flight',
      'gateway_rate_limited_total',
      'gateway_ratelimit_store_errors_total',
      'gateway_retries_total',
      'gateway_config_reloads_total',
      'gateway_config_last_reload_success_timestamp_seconds',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('passes promtool check metrics', () => {
    let promtool: string;
    try {
      promtool = execFileSync('which', ['promtool']).toString().trim();
    } catch {
      if (process.env.CI === 'true') throw new Error('promtool is missing: .ci/run installs the Debian package prometheus');
      console.warn('skipped outside CI: promtool not installed (apt-get install prometheus)');
      return;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'gw-metrics-')), 'metrics.txt');
    writeFileSync(file, text);
    const out = execFileSync('sh', ['-c', `${promtool} check metrics < ${file} 2>&1; echo "exit=$?"`]).toString();
    expect(out.trim()).toBe('exit=0');
  });
});
