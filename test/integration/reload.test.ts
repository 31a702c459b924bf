import { mkdirSync, mkdtempSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import request from 'supertest';
import { ConfigWatcher } from '../../src/reload/watcher';
import { ConfigReloader } from '../../src/reload/reloader';
import { silentLogger } from '../../src/observability/logger';
import { waitFor } from '../helpers/http';
import { startReloadable, ReloadableGateway } from '../helpers/reloadable';
import { startUpstream, TestUpstream } from '../helpers/upstream';

let a: TestUpstream;
let b: TestUpstream;
let hits: Record<string, number>;
let gw: ReloadableGateway;

function routesFor(target: 'a' | 'b', extra = ''): string {
  const url = target === 'a' ? a.url : b.url;
  return `version: 1
gateway: { host: 127.0.0.1 }
services:
  up-${target}: { instances: [{ url: "${url}", weight: ${target === 'a' ? 2 : 3} }], healthCheck: { interval: 1s } }
  stable: { instances: ["${a.url}"], healthCheck: { enabled: false } }
routes:
  - { name: r, path: /r, service: up-${target}, rewrite: /${target}, maxBodySize: ${target === 'a' ? '1mb' : '2mb'} }
  - { name: stable, path: /stable, service: stable }
${extra}`;
}

beforeAll(async () => {
  hits = { a: 0, b: 0 };
  const answer = (name: 'a' | 'b') => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    req.resume();
    if (req.url !== '/health') hits[name]++;
    res.end(name);
  };
  a = await startUpstream(answer('a'));
  b = await startUpstream(answer('b'));
});
afterAll(async () => {
  await a.close();
  await b.close();
});
afterEach(async () => {
  await gw?.stop();
});

describe('hot reload', () => {
  it('20 reloads between two configs under steady load: zero failed requests, each answered by one of the two configs', async () => {
    gw = await startReloadable(routesFor('a'));
    hits = { a: 0, b: 0 };
    const load = autocannon({ url: `${gw.url}/r/x`, connections: 8, duration: 4 });
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 120));
      gw.write(routesFor(i % 2 === 0 ? 'b' : 'a'));
      outcomes.push((await gw.reloader.reload('file')).result);
    }
    const result = await load;
    expect(outcomes).toEqual(new Array(20).fill('success'));
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBeGreaterThan(100);
    // Every answer came from one of the two upstreams; requests still in flight when the load
    // generator stopped (at most one per connection) reached an upstream but were not counted.
    expect(hits.a + hits.b).toBeGreaterThanOrEqual(result['2xx']);
    expect(hits.a + hits.b).toBeLessThanOrEqual(result['2xx'] + 8);
    expect(hits.a).toBeGreaterThan(0);
    expect(hits.b).toBeGreaterThan(0);
  }, 20_000);

  it('an invalid file during load: zero failed requests, the old config serves, the error is logged with line and column; fixed, it reloads', async () => {
    gw = await startReloadable(routesFor('a'));
    const load = autocannon({ url: `${gw.url}/r/x`, connections: 4, duration: 2 });
    await new Promise((r) => setTimeout(r, 300));
    gw.write(routesFor('b').replace('service: up-b', 'service: up-bb'));
    const failed = await gw.reloader.reload('file');
    expect(failed.result).toBe('failure');
    expect(failed.errors[0]).toMatch(/routes\.yaml:7:\d+ error \/routes\/0\/service: unknown service "up-bb" \(did you mean "up-b"\?\)/);
    expect((await request(gw.url).get('/r/x')).text).toBe('a');
    const result = await load;
    expect(result.errors + result.non2xx + result.timeouts).toBe(0);

    const logged = gw.logs().find((l) => l.message === 'config reload failed; the previous config keeps serving');
    expect(logged).toMatchObject({ level: 'error', result: 'failure', trigger: 'file' });
    expect(String((logged!.errors as string[])[0])).toContain('routes.yaml:7:');
    const reloadMetric = async (result: string) => (await gw.server.metrics.reloads.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
    expect(await reloadMetric('failure')).toBe(1);
    expect(await reloadMetric('success')).toBe(0);
    const state = (await request(gw.url).get('/')).body.config;
    expect(state).toMatchObject({ lastReloadResult: 'failure', reloads: { success: 0, failure: 1 } });
    expect(state.lastReloadError).toContain('unknown service "up-bb"');

    gw.write(routesFor('b'));
    expect((await gw.reloader.reload('file')).result).toBe('success');
    expect((await request(gw.url).get('/r/x')).text).toBe('b');
    expect((await request(gw.url).get('/')).body.config).toMatchObject({ lastReloadResult: 'success', lastReloadError: null, reloads: { success: 1, failure: 1 } });
    expect(await reloadMetric('success')).toBe(1);
  });

  it('refuses a change of port or host as restart required and keeps the running config', async () => {
    gw = await startReloadable(routesFor('a'));
    gw.write(routesFor('b').replace('host: 127.0.0.1', 'host: 127.0.0.1, port: 9999'));
    const outcome = await gw.reloader.reload('signal', true);
    expect(outcome.result).toBe('restart_required');
    expect(outcome.errors).toEqual(['gateway.port changed: restart required (the running config is unchanged)']);
    expect((await request(gw.url).get('/r/x')).text).toBe('a');
  });

  it('keeps the state of unchanged services: the same pools, health and circuit objects', async () => {
    gw = await startReloadable(routesFor('a'));
    const before = gw.server.current.services.get('stable')!;
    const changedBefore = gw.server.current.services.get('up-a')!;
    await request(gw.url).get('/stable/x');
    const pool = before.instances[0].pool;
    gw.write(routesFor('b'));
    const outcome = await gw.reloader.reload('file');
    expect(outcome.changes).toEqual(
      expect.arrayContaining([
        { kind: 'route', name: 'r', change: 'changed', fields: ['maxBodySize', 'rewrite', 'service'] },
        { kind: 'service', name: 'up-a', change: 'removed' },
        { kind: 'service', name: 'up-b', change: 'added' },
      ]),
    );
    const after = gw.server.current.services.get('stable')!;
    expect(after).toBe(before);
    expect(after.instances[0].pool).toBe(pool);
    expect(gw.server.current.services.has('up-a')).toBe(false);
    // The removed service's health checks were stopped with it.
    expect((changedBefore.instances[0].health as unknown as { stopped: boolean }).stopped).toBe(true);
  });
});

describe('reload triggers', () => {
  function watch(g: ReloadableGateway, file = g.file): ConfigWatcher {
    const watcher = new ConfigWatcher(file, () => void g.reloader.reload('file'), 100);
    watcher.start();
    return watcher;
  }

  it('picks up a rename over the file (how editors save) and ignores a touch without changes', async () => {
    gw = await startReloadable(routesFor('a'));
    const watcher = watch(gw);
    try {
      const now = new Date();
      utimesSync(gw.file, now, now);
      writeFileSync(gw.file, routesFor('a'));
      await new Promise((r) => setTimeout(r, 400));
      expect(gw.reloader.state.reloads).toEqual({ success: 0, failure: 0 });

      const tmp = join(gw.dir, '.routes.yaml.swp');
      writeFileSync(tmp, routesFor('b'));
      renameSync(tmp, gw.file);
      await waitFor(() => gw.reloader.state.reloads.success === 1, 3000, 'reload after rename');
      expect((await request(gw.url).get('/r/x')).text).toBe('b');
    } finally {
      watcher.stop();
    }
  });

  it('picks up a Kubernetes ConfigMap-style symlink swap', async () => {
    // ConfigMap layout: routes.yaml -> ..data/routes.yaml, ..data -> ..v1 (a versioned folder);
    // an update writes ..v2 and renames a new ..data symlink over the old one.
    const dir = mkdtempSync(join(tmpdir(), 'gw-configmap-'));
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'routes.yaml'), routesFor('a'));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'routes.yaml'), join(dir, 'routes.yaml'));
    gw = await startReloadable(routesFor('a'));
    const server = gw.server;
    const file = join(dir, 'routes.yaml');
    const reloader = new ConfigReloader(file, () => ({}), { current: () => server.current.config, swap: (c) => server.swap(c) }, silentLogger(), routesFor('a'));
    const watcher = new ConfigWatcher(file, () => void reloader.reload('file'), 100);
    watcher.start();
    try {
      mkdirSync(join(dir, '..v2'));
      writeFileSync(join(dir, '..v2', 'routes.yaml'), routesFor('b'));
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await waitFor(() => reloader.state.reloads.success === 1, 3000, 'reload after symlink swap');
      expect((await request(gw.url).get('/r/x')).text).toBe('b');
    } finally {
      watcher.stop();
    }
  });
});

describe('POST /admin/reload', () => {
  it('is 404 when no admin token is configured', async () => {
    gw = await startReloadable(routesFor('a'));
    const res = await request(gw.url).post('/admin/reload').set('authorization', 'Bearer anything');
    expect(res.status).toBe(404);
    expect((await request(gw.url).get('/admin/config')).status).toBe(404);
  });

  it('is 401 with a wrong token and 200 with the changes with the right one', async () => {
    gw = await startReloadable(routesFor('a'), { adminToken: 'lab-admin-token' });
    const wrong = await request(gw.url).post('/admin/reload').set('authorization', 'Bearer nope');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('GW_ADMIN_UNAUTHORIZED');
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="tracseq-admin"');
    expect((await request(gw.url).post('/admin/reload')).status).toBe(401);

    gw.write(routesFor('b'));
    const ok = await request(gw.url).post('/admin/reload').set('authorization', 'Bearer lab-admin-token');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ result: 'success', trigger: 'admin', errors: [] });
    expect(ok.body.changes).toEqual(expect.arrayContaining([{ kind: 'service', name: 'up-b', change: 'added' }]));

    const running = await request(gw.url).get('/admin/config').set('authorization', 'Bearer lab-admin-token');
    expect(running.status).toBe(200);
    expect(running.body.routes[0].service).toBe('up-b');

    gw.write('version: 1\nroutes: [');
    const bad = await request(gw.url).post('/admin/reload').set('authorization', 'Bearer lab-admin-token');
    expect(bad.status).toBe(422);
    expect(bad.body.result).toBe('failure');
    expect(bad.body.errors[0]).toMatch(/routes\.yaml:2:\d+ error: YAML syntax/);
  });
});

describe('leaks', () => {
  it('1,000 reloads leave listeners and active handles flat', async () => {
    gw = await startReloadable(routesFor('a'));
    await request(gw.url).get('/r/x');
    const handles = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    const listeners = () => gw.server.server.eventNames().reduce((n, e) => n + gw.server.server.listenerCount(e), 0) + process.listenerCount('SIGHUP');
    // Warm up one round trip of both configs first.
    for (const t of ['b', 'a'] as const) {
      gw.write(routesFor(t));
      await gw.reloader.reload('file');
    }
    const before = { handles: handles(), listeners: listeners() };
    for (let i = 0; i < 1000; i++) {
      gw.write(routesFor(i % 2 === 0 ? 'b' : 'a'));
      const outcome = await gw.reloader.reload('file');
      if (outcome.result !== 'success') throw new Error(`reload ${i}: ${outcome.result} ${outcome.errors.join('; ')}`);
    }
    await request(gw.url).get('/r/x').expect(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(listeners()).toBe(before.listeners);
    expect(handles()).toBeLessThanOrEqual(before.handles + 2);
  }, 60_000);
});
