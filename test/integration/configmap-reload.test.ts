import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { silentLogger } from '../../src/observability/logger';
import { ConfigReloader } from '../../src/reload/reloader';
import { ConfigWatcher } from '../../src/reload/watcher';
import { GatewayServer } from '../../src/server/gateway-server';
import { ConfigMapVolume } from '../helpers/configmap';
import { configFrom } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';

// docker/k8s mounts the routes ConfigMap as a folder and points ROUTES_FILE at routes.yaml in it.
// This is that folder, byte for byte as the kubelet keeps it, under the watcher and reloader that
// `tracseq-gateway start` wires up (default debounce), in front of a real gateway.
let a: TestUpstream;
let b: TestUpstream;
let volume: ConfigMapVolume;
let server: GatewayServer;
let reloader: ConfigReloader;
let watcher: ConfigWatcher;
let url: string;

const routesTo = (upstream: TestUpstream, tag: string) => `version: 1
gateway: { host: 127.0.0.1 }
services:
  samples: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: samples, path: /samples, service: samples, rewrite: /${tag} }
`;

beforeAll(async () => {
  a = await startUpstream((req, res) => res.end(`a${req.url}`));
  b = await startUpstream((req, res) => res.end(`b${req.url}`));
  volume = new ConfigMapVolume({ 'routes.yaml': routesTo(a, 'v1') });
  const file = volume.path('routes.yaml');
  const initial = readFileSync(file, 'utf8');
  server = new GatewayServer(configFrom(initial), silentLogger());
  reloader = new ConfigReloader(file, () => ({}), { current: () => server.current.config, swap: (c) => server.swap(c) }, silentLogger(), initial);
  server.attachReloader(reloader);
  watcher = new ConfigWatcher(file, () => void reloader.reload('file'));
  url = `http://127.0.0.1:${((await server.listen(0, '127.0.0.1')) as AddressInfo).port}`;
  watcher.start();
});

afterAll(async () => {
  watcher.stop();
  await server.stop(2000);
  await a.close();
  await b.close();
  volume.remove();
});

describe("a routes ConfigMap mounted as a folder (the kubelet's layout)", () => {
  it('starts from routes.yaml -> ..data/routes.yaml -> the timestamped folder', async () => {
    const entries = readdirSync(volume.dir).sort();
    expect(entries).toEqual([expect.stringMatching(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/), '..data', 'routes.yaml']);
    expect((await request(url).get('/samples/x')).text).toBe('a/v1/x');
  });

  it('reloads when an update swaps ..data, and again on the next update (the old folder is gone by then)', async () => {
    volume.update({ 'routes.yaml': routesTo(b, 'v2') });
    await waitFor(() => reloader.state.reloads.success === 1, 5000, 'reload after the first ..data swap');
    expect((await request(url).get('/samples/x')).text).toBe('b/v2/x');

    volume.update({ 'routes.yaml': routesTo(a, 'v3') });
    await waitFor(() => reloader.state.reloads.success === 2, 5000, 'reload after the second ..data swap');
    expect((await request(url).get('/samples/x')).text).toBe('a/v3/x');
    expect(readdirSync(volume.dir).filter((e) => /^\.\.\d/.test(e))).toHaveLength(1);
    expect(reloader.state.reloads.failure).toBe(0);
  });

  it('an update with the same content reloads nothing', async () => {
    const before = { ...reloader.state.reloads };
    volume.update({ 'routes.yaml': routesTo(a, 'v3') });
    await new Promise((r) => setTimeout(r, 800));
    expect(reloader.state.reloads).toEqual(before);
    expect(existsSync(volume.path('routes.yaml'))).toBe(true);
  });
});
