import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest, waitFor } from '../helpers/http';
import { distEntry, runNode, RunningProcess } from '../helpers/process';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';

let upstream: TestUpstream;
let gateway: RunningProcess | undefined;

afterEach(async () => {
  gateway?.child.kill('SIGKILL');
  await upstream?.close();
});

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting, lets the in-flight request finish, then exits 0', async () => {
    // The slow request is answered only once the gateway is draining, so the test proves the drain
    // waited for it whatever the machine's speed.
    let answer: (() => void) | undefined;
    upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === '/health') return void res.end('ok');
      answer = () => res.end('finished while draining');
    });
    const dir = mkdtempSync(join(tmpdir(), 'gw-shutdown-'));
    const file = join(dir, 'routes.yaml');
    writeFileSync(
      file,
      `version: 1
gateway: { host: 127.0.0.1, drainTimeout: 10s }
services:
  slow: { instances: ["${upstream.url}"] }
routes:
  - { name: slow, path: /slow, service: slow }
`,
    );
    const port = await closedPort();
    gateway = runNode(distEntry('cli/index.js'), ['start', '--config', file], { PORT: String(port), LOG_LEVEL: 'info' });
    const g = gateway;
    await waitFor(() => g.jsonLines.some((l) => l.message === 'gateway listening'), 10_000, 'gateway start');

    const inFlight = rawRequest(`http://127.0.0.1:${port}/slow/x`);
    // The active health check may reach the upstream too: wait for this request itself.
    await waitFor(() => answer !== undefined, 10_000, 'request at the upstream');
    g.child.kill('SIGTERM');
    await waitFor(() => g.jsonLines.some((l) => l.message === 'gateway draining'), 10_000, 'drain start');

    await expect(rawRequest(`http://127.0.0.1:${port}/slow/y`)).rejects.toThrow(/ECONNREFUSED/);
    setTimeout(() => answer?.(), 300);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('finished while draining');
    await expect(g.exited).resolves.toBe(0);
    expect(g.jsonLines.map((l) => l.message)).toEqual(expect.arrayContaining(['shutdown requested', 'gateway draining', 'gateway stopped']));
  });

  it('with SHUTDOWN_DELAY, a new connection 50 ms after SIGTERM is served and /ready says 503', async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'gw-shutdown-delay-'));
    const file = join(dir, 'routes.yaml');
    writeFileSync(
      file,
      `version: 1
gateway: { host: 127.0.0.1 }
services:
  up: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: up, path: /up, service: up }
`,
    );
    const port = await closedPort();
    gateway = runNode(distEntry('cli/index.js'), ['start', '--config', file], { PORT: String(port), SHUTDOWN_DELAY: '1s', LOG_LEVEL: 'info' });
    const g = gateway;
    await waitFor(() => g.jsonLines.some((l) => l.message === 'gateway listening'), 10_000, 'gateway start');
    g.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    const served = await rawRequest(`http://127.0.0.1:${port}/up/x`);
    expect(served.status).toBe(200);
    expect(served.headers.connection).toBe('close');
    expect((await rawRequest(`http://127.0.0.1:${port}/ready`)).status).toBe(503);
    await waitFor(() => g.jsonLines.some((l) => l.message === 'gateway draining'), 10_000, 'drain start');
    await expect(g.exited).resolves.toBe(0);
  });
});
