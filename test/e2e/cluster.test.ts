import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigText } from '../../src/config';
import { rawRequest, waitFor } from '../helpers/http';
import { distEntry, runNode, RunningProcess } from '../helpers/process';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * Cluster mode as an operator runs it: `tracseq-gateway start` with WORKERS=2, a real upstream
 * that counts the health probes it receives, the routes file edited under it, a worker killed.
 */
let upstream: TestUpstream;
let gateway: RunningProcess;
let port = 0;
let managementPort = 0;
let file = '';
const probes: number[] = [];

const routes = (extra = '') => `version: 1
gateway: { host: 127.0.0.1, managementPort: ${managementPort}, managementHost: 127.0.0.1 }
services:
  up: { instances: ["${upstream.url}"], healthCheck: { interval: 500ms, timeout: 400ms } }
routes:
  - { name: up, path: /up, service: up }
${extra}`;

const get = (path: string, at = port) => rawRequest(`http://127.0.0.1:${at}${path}`);
const logs = (message: string) => gateway.jsonLines.filter((l) => l.message === message);
const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    req.resume();
    if (req.url === '/health') probes.push(Date.now());
    res.end('ok');
  });
  port = await closedPort();
  managementPort = await closedPort();
  file = join(mkdtempSync(join(tmpdir(), 'gw-cluster-')), 'routes.yaml');
  writeFileSync(file, routes());
  gateway = runNode(distEntry('cli/index.js'), ['start', '--config', file], { PORT: String(port), WORKERS: '2', LOG_LEVEL: 'info' });
  await waitFor(() => logs('worker listening').length === 2, 20_000, 'two workers listening');
}, 30_000);

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await upstream?.close();
});

describe('cluster mode (WORKERS=2)', () => {
  it('serves on one port from two worker processes', async () => {
    const pids = new Set(logs('worker listening').map((l) => l.pid));
    expect(pids.size).toBe(2);
    for (let i = 0; i < 20; i++) expect((await get(`/up/${i}`)).status).toBe(200);
  });

  it('runs the health checks once, in the primary: probes arrive at one interval, not two', async () => {
    const from = probes.length;
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    const seen = probes.length - from;
    const intervals = (Date.now() - started) / 500;
    // One checker: about one probe per interval (±10% jitter); two would give about twice as many.
    expect(seen).toBeGreaterThanOrEqual(Math.floor(intervals * 0.6));
    expect(seen).toBeLessThanOrEqual(Math.ceil(intervals * 1.3));
  });

  it("every worker shows the primary's health findings", async () => {
    for (let i = 0; i < 6; i++) {
      const res = await get('/health/services', managementPort);
      const body = JSON.parse(res.body) as { services: { up: { instances: { health: string; lastCheck: string | null }[] } } };
      expect(body.services.up.instances[0].health).toBe('healthy');
      expect(body.services.up.instances[0].lastCheck).not.toBeNull();
    }
  });

  it('/metrics on any worker gives the cluster totals: counters and histograms summed', async () => {
    const before = await get('/metrics', managementPort);
    const count = (text: string) => metric(text, /^gateway_requests_total\{method="GET",service="up",route="up",status="200"\} (\d+)$/m);
    const histogram = (text: string) => metric(text, /^gateway_request_duration_seconds_count\{service="up",route="up"\} (\d+)$/m);
    for (let i = 0; i < 10; i++) await get(`/up/counted-${i}`);
    // Several scrapes: each lands on either worker, and each must see all ten.
    for (let i = 0; i < 4; i++) {
      const after = await get('/metrics', managementPort);
      expect(count(after.body) - count(before.body)).toBe(10);
      expect(histogram(after.body) - histogram(before.body)).toBe(10);
      expect(metric(after.body, /^service_health_status\{service="up",upstream="[^"]+",status="healthy"\} (\d+)$/m)).toBe(1);
    }
  });

  it('a bad routes file leaves every worker on the old config, reported once', async () => {
    const failuresBefore = logs('config reload failed; the previous config keeps serving').length;
    writeFileSync(file, 'version: 1\nroutes: [ { name: broken');
    await waitFor(() => logs('config reload failed; the previous config keeps serving').length > failuresBefore, 10_000, 'the reload failure');
    await new Promise((r) => setTimeout(r, 500));
    expect(logs('config reload failed; the previous config keeps serving').length).toBe(failuresBefore + 1);
    for (let i = 0; i < 6; i++) expect((await get(`/up/still-${i}`)).status).toBe(200);
  });

  it('a good routes file reaches every worker', async () => {
    writeFileSync(file, routes('  - { name: added, path: /added, service: up }\n'));
    await waitFor(() => logs('config reloaded').length > 0, 10_000, 'the reload');
    for (let i = 0; i < 8; i++) expect((await get(`/added/${i}`)).status).toBe(200);
  });

  it('a killed worker is restarted, and the other serves meanwhile', async () => {
    const victim = Number(logs('worker listening')[0].pid);
    process.kill(victim, 'SIGKILL');
    await waitFor(() => logs('worker exited; restarting it').length === 1, 5_000, 'the restart');
    for (let i = 0; i < 6; i++) expect((await get(`/up/meanwhile-${i}`)).status).toBe(200);
    await waitFor(() => logs('worker listening').length === 3, 20_000, 'the new worker');
    const listening = logs('worker listening').map((l) => Number(l.pid));
    expect(listening[2]).not.toBe(victim);
  }, 30_000);

  it('SIGTERM stops every worker gracefully and the primary exits 0', async () => {
    gateway.child.kill('SIGTERM');
    await expect(gateway.exited).resolves.toBe(0);
    expect(logs('worker stopping').length).toBeGreaterThanOrEqual(2);
    expect(logs('gateway stopped').length).toBeGreaterThanOrEqual(3);
  }, 30_000);
});

describe('the memory rate-limit store with more than one worker', () => {
  it.each([['2'], ['auto']])('is refused with workers: %s, naming the setting and the fix', (workers) => {
    const result = checkConfigText(
      'routes.yaml',
      `version: 1
gateway: { workers: ${workers === 'auto' ? 'auto' : Number(workers)} }
services:
  up: { instances: ["http://127.0.0.1:1"] }
routes:
  - { name: up, path: /up, service: up, rateLimit: { enabled: true, requestsPerMinute: 5 } }
`,
      {},
    );
    const problem = result.problems.find((p) => p.pointer === '/gateway/workers');
    expect(problem).toMatchObject({ severity: 'error', line: 2 });
    expect(problem?.message).toContain('rateLimiting.store: redis');
  });

  it('is fine with one worker, and Redis is fine with many', () => {
    const text = (workers: number, store: string) => `version: 1
gateway: { workers: ${workers} }
rateLimiting: { store: ${store}, redisUrl: "redis://127.0.0.1:6379" }
services:
  up: { instances: ["http://127.0.0.1:1"] }
routes:
  - { name: up, path: /up, service: up, rateLimit: { enabled: true, requestsPerMinute: 5 } }
`;
    expect(checkConfigText('routes.yaml', text(1, 'memory'), {}).problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(checkConfigText('routes.yaml', text(4, 'redis'), {}).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});
