import { join } from 'node:path';
import request from 'supertest';
import { ConfigMapVolume } from '../helpers/configmap';
import { waitFor } from '../helpers/http';
import { distEntry, ROOT, runNode, RunningProcess } from '../helpers/process';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';

// The commands the containers run (docker/Dockerfile, docker/docker-compose.demo.yml,
// docker/k8s/deployment.yaml), as processes of the compiled build.
const started: RunningProcess[] = [];
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

function run(entry: string, args: string[], env: Record<string, string>): RunningProcess {
  const p = runNode(entry, args, env);
  started.push(p);
  return p;
}

describe('node dist/demo/serve-one.js <service> (a demo service container)', () => {
  it("serves one stand-in on PORT, passes the image's health probe, and exits 0 on SIGTERM", async () => {
    const port = await closedPort();
    const standIn = run(distEntry('demo/serve-one.js'), ['samples'], { PORT: String(port), HOST: '127.0.0.1' });
    await waitFor(() => standIn.output().includes(`listening on ${port}`) || standIn.child.exitCode !== null, 10_000, 'stand-in start');
    expect((await request(`http://127.0.0.1:${port}`).get('/health')).body).toMatchObject({ status: 'ok', service: 'samples' });
    const probe = run(join(ROOT, 'scripts', 'healthcheck.js'), [], { PORT: String(port) });
    expect(await probe.exited).toBe(0);
    standIn.child.kill('SIGTERM');
    expect(await standIn.exited).toBe(0);
  });

  it('exits 2 with the usage for an unknown service', async () => {
    const p = run(distEntry('demo/serve-one.js'), ['sample-service'], {});
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('usage: serve-one.js <service>, one of auth, samples');
  });
});

describe('tracseq-gateway start with ROUTES_FILE in a mounted ConfigMap (the Kubernetes Deployment)', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let volume: ConfigMapVolume;
  beforeAll(async () => {
    a = await startUpstream((req, res) => res.end(`a${req.url}`));
    b = await startUpstream((req, res) => res.end(`b${req.url}`));
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    volume?.remove();
  });

  const routesTo = (upstream: TestUpstream) => `version: 1
gateway: { host: 127.0.0.1 }
auth: { enabled: false }
services:
  samples: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: samples, path: /samples, service: samples }
`;

  it('reloads when the kubelet swaps ..data, and drains and exits 0 on SIGTERM', async () => {
    volume = new ConfigMapVolume({ 'routes.yaml': routesTo(a) });
    const port = await closedPort();
    const gateway = run(distEntry('cli/index.js'), ['start'], { ROUTES_FILE: volume.path('routes.yaml'), PORT: String(port), MONITORING__LOG_REQUESTS: 'false' });
    await waitFor(() => gateway.jsonLines.some((l) => l.message === 'gateway listening') || gateway.child.exitCode !== null, 15_000, 'gateway start');
    if (gateway.child.exitCode !== null) throw new Error(`gateway exited:\n${gateway.output()}`);
    const url = `http://127.0.0.1:${port}`;
    expect((await request(url).get('/samples/x')).text).toBe('a/samples/x');

    volume.update({ 'routes.yaml': routesTo(b) });
    await waitFor(() => gateway.jsonLines.some((l) => l.message === 'config reloaded'), 5000, 'config reloaded');
    expect((await request(url).get('/samples/x')).text).toBe('b/samples/x');

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 30_000);
});
