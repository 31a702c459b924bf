import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { NXDOMAIN, SERVFAIL, TestDnsServer } from '../helpers/dns-server';
import { ROOT } from '../helpers/process';

/** Each load's figures, written to test-output/discovery.md when the suite ends. */
const FIGURES: { scenario: string; requests: number; failed: number; perInstance: string }[] = [];

/**
 * Service discovery against a real DNS server on loopback: instances on 127.0.0.2-5 (one port),
 * found through A and SRV records the test changes under a steady load of 8 clients.
 */
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const NAME = 'samples.lab.test';

interface Instance {
  address: string;
  server: Server;
  /** Requests received (by this instance), and the Host headers they carried. */
  received: number;
  hosts: Set<string>;
}

let dns: TestDnsServer;
let instances: Instance[];
let port: number;
let gw: RunningGateway;

/** Upstreams on every address with the same port (A records carry no port). */
async function startInstances(): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const made: Instance[] = [];
    try {
      let chosen = 0;
      for (const address of ADDRESSES) {
        const instance: Instance = { address, server: undefined as unknown as Server, received: 0, hosts: new Set() };
        instance.server = createServer((req, res) => {
          instance.received++;
          instance.hosts.add(req.headers.host ?? '');
          const slow = req.url?.includes('slow') ? 800 : 0;
          let bytes = 0;
          req.on('data', (c: Buffer) => (bytes += c.length));
          req.on('end', () =>
            setTimeout(() => {
              res.writeHead(200, { 'content-type': 'application/json', 'x-instance': address });
              res.end(JSON.stringify({ instance: address, bytes }));
            }, slow),
          );
        });
        const sockets = new Set<Socket>();
        instance.server.on('connection', (s: Socket) => {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
        });
        instance.server.on('close', () => sockets.forEach((s) => s.destroy()));
        await new Promise<void>((resolve, reject) => {
          instance.server.once('error', reject);
          instance.server.listen(chosen, address, () => resolve());
        });
        chosen = (instance.server.address() as AddressInfo).port;
        made.push(instance);
      }
      instances = made;
      port = chosen;
      return;
    } catch {
      // The port taken on one of the addresses: try another.
      await Promise.all(made.map((i) => new Promise((r) => i.server.close(r))));
    }
  }
  throw new Error('no port free on every loopback address');
}

function setAddresses(...addresses: string[]): void {
  dns.set(NAME, { A: addresses.map((address) => ({ address, ttl: 30 })) });
}

function instanceAt(address: string): Instance {
  return instances.find((i) => i.address === address)!;
}

/** A steady load of 8 clients (one in four sends a streamed POST body), counting answers per instance. */
class Load {
  readonly by = new Map<string, number>();
  failures: string[] = [];
  total = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  private readonly all = new Map<string, number>();

  constructor(
    private readonly path: string,
    private readonly scenario: string,
  ) {
    this.loops = Array.from({ length: 8 }, (_, client) => this.loop(client));
  }

  private one(client: number, n: number): Promise<void> {
    return new Promise((resolve) => {
      const post = (client + n) % 4 === 0;
      const req = httpRequest(`${gw.url}${this.path}`, { method: post ? 'POST' : 'GET', agent: false, headers: post ? { 'transfer-encoding': 'chunked' } : {} }, (res) => {
        res.resume();
        res.on('end', () => {
          this.total++;
          const instance = String(res.headers['x-instance'] ?? '');
          if (res.statusCode === 200) {
            this.by.set(instance, (this.by.get(instance) ?? 0) + 1);
            this.all.set(instance, (this.all.get(instance) ?? 0) + 1);
          } else this.failures.push(`${res.statusCode}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        this.failures.push(err.message);
        resolve();
      });
      if (post) {
        req.write(Buffer.alloc(2000, 1));
        setImmediate(() => req.end(Buffer.alloc(2000, 2)));
      } else req.end();
    });
  }

  private async loop(client: number): Promise<void> {
    for (let n = 0; this.running; n++) await this.one(client, n);
  }

  /** Answers per instance since the last call. */
  take(): Map<string, number> {
    const copy = new Map(this.by);
    this.by.clear();
    return copy;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    const perInstance = [...this.all]
      .sort()
      .map(([instance, n]) => `${instance}: ${n}`)
      .join(', ');
    FIGURES.push({ scenario: this.scenario, requests: this.total, failed: this.failures.length, perInstance });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function services(): Promise<Record<string, unknown>[]> {
  const body = (await fetch(`${gw.url}/services`).then((r) => r.json())) as { services: Record<string, unknown>[] };
  return body.services;
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await fetch(`${gw.url}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((p) => l.includes(p)));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

beforeAll(async () => {
  dns = new TestDnsServer();
  await dns.start();
  await startInstances();
  setAddresses(ADDRESSES[0]);
  dns.set('_http._tcp.weighted.lab.test', {
    SRV: [
      { target: 'heavy.lab.test', port, weight: 3, priority: 10 },
      { target: 'light.lab.test', port, weight: 1, priority: 10 },
      { target: 'backup.lab.test', port, weight: 1, priority: 20 },
    ],
  });
  dns.set('heavy.lab.test', { A: [{ address: ADDRESSES[0] }] });
  dns.set('light.lab.test', { A: [{ address: ADDRESSES[1] }] });
  dns.set('backup.lab.test', { A: [{ address: ADDRESSES[2] }] });
  dns.set('zero-ttl.lab.test', { A: [{ address: ADDRESSES[3], ttl: 0 }] });
  gw = await startGateway(configFrom(gatewayYaml('')));
});

function gatewayYaml(extraRoute: string): string {
  return `
version: 1
gateway: { managementPort: 0, dnsServers: ["${dns.address}"] }
services:
  samples:
    discovery: { dns: ${NAME}, port: ${port}, refresh: 400ms, minRefresh: 100ms, timeout: 300ms }
    healthCheck: { enabled: false }
  weighted:
    loadBalancer: weighted_round_robin
    discovery: { dns: _http._tcp.weighted.lab.test, refresh: 1s }
    healthCheck: { enabled: false }
  ttl0:
    discovery: { dns: zero-ttl.lab.test, port: ${port}, refresh: 10s, minRefresh: 200ms }
    healthCheck: { enabled: false }
  later:
    discovery: { dns: later.lab.test, port: ${port}, refresh: 300ms, minRefresh: 100ms }
    healthCheck: { enabled: false }
routes:
  - { name: samples, path: /samples, service: samples }
  - { name: weighted, path: /weighted, service: weighted }
  - { name: ttl0, path: /ttl0, service: ttl0 }
  - { name: later, path: /later, service: later }
${extraRoute}`;
}

afterAll(async () => {
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  const rows = FIGURES.map((f) => `| ${f.scenario} | ${f.requests} | ${f.failed} | ${f.perInstance} |`);
  writeFileSync(join(ROOT, 'test-output', 'discovery.md'), ['| scenario | requests | failed | answered by |', '|---|---|---|---|', ...rows, ''].join('\n'));
  await gw?.stop();
  await dns?.close();
  await Promise.all((instances ?? []).map((i) => new Promise((r) => i.server.close(r))));
});

describe('service discovery from DNS, under load', () => {
  it('sends the service name as Host, not the address', async () => {
    await waitFor(() => instanceAt(ADDRESSES[0]).received === 0 || true);
    const res = await fetch(`${gw.url}/samples/x`);
    expect(res.status).toBe(200);
    expect([...instanceAt(ADDRESSES[0]).hosts]).toContain(`${NAME}:${port}`);
  });

  it('spreads traffic to three instances within one refresh of scaling 1 → 3, then drains two on 3 → 1, without a failed request', async () => {
    const load = new Load('/samples/list', 'scale 1 → 3 → 1');
    try {
      await sleep(500);
      expect([...load.take().keys()]).toEqual([ADDRESSES[0]]);

      setAddresses(ADDRESSES[0], ADDRESSES[1], ADDRESSES[2]);
      await sleep(600); // one refresh (400 ms ± 10 %) and the lookup
      load.take();
      await sleep(800);
      const spread = load.take();
      expect([...spread.keys()].sort()).toEqual(ADDRESSES.slice(0, 3));
      for (const n of spread.values()) expect(n).toBeGreaterThan(5);

      // A slow request in flight on an instance that is about to leave finishes.
      const inFlight = fetch(`${gw.url}/samples/slow`).then(async (r) => ({ status: r.status, body: (await r.json()) as { instance: string } }));
      await sleep(50);
      setAddresses(ADDRESSES[0]);
      await sleep(600);
      load.take();
      const before = ADDRESSES.slice(1, 3).map((a) => instanceAt(a).received);
      await sleep(800);
      expect(ADDRESSES.slice(1, 3).map((a) => instanceAt(a).received)).toEqual(before);
      expect([...load.take().keys()]).toEqual([ADDRESSES[0]]);
      await expect(inFlight).resolves.toMatchObject({ status: 200 });
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.total).toBeGreaterThan(100);
  });

  it('moves every request when all addresses are swapped, without a failed request', async () => {
    const load = new Load('/samples/swap', 'all addresses swapped');
    try {
      await sleep(300);
      setAddresses(ADDRESSES[2], ADDRESSES[3]);
      await sleep(700);
      load.take();
      await sleep(600);
      expect([...load.take().keys()].sort()).toEqual([ADDRESSES[2], ADDRESSES[3]]);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
  });

  it.each([
    ['NXDOMAIN', () => dns.set(NAME, { rcode: NXDOMAIN }), 'ENOTFOUND'],
    ['SERVFAIL', () => dns.set(NAME, { rcode: SERVFAIL }), 'ESERVFAIL'],
    [
      'a DNS server that stops answering',
      () => {
        dns.silent = true;
      },
      'ETIMEOUT',
    ],
  ])('keeps serving the last set found on %s, and reports it', async (_name, fail, code) => {
    setAddresses(ADDRESSES[0], ADDRESSES[1]);
    const wanted = [ADDRESSES[0], ADDRESSES[1]].map((a) => `http://${a}:${port}`).join();
    await waitFor(
      () =>
        (gw.server.current.services
          .get('samples')
          ?.instances.map((i) => i.url)
          .sort()
          .join() ?? '') === wanted,
      3000,
      'the two instances',
    );
    const errorsBefore = await metric('gateway_discovery_errors_total', `service="samples",error="${code}"`);
    const load = new Load('/samples/failing-dns', `lookups fail: ${_name}`);
    try {
      fail();
      await sleep(1200);
      const seen = load.take();
      expect([...seen.keys()].sort()).toEqual([ADDRESSES[0], ADDRESSES[1]]);
      const samples = (await services()).find((s) => s.name === 'samples') as { discovery: { lastError: string; name: string }; instances: unknown[] };
      expect(samples.discovery).toMatchObject({ name: NAME, lastError: code });
      expect(samples.instances).toHaveLength(2);
      expect(await metric('gateway_discovery_errors_total', `service="samples",error="${code}"`)).toBeGreaterThan(errorsBefore);
    } finally {
      dns.silent = false;
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(gw.logs().some((l) => l.message === 'service discovery lookup failed; the last instances found keep serving' && l.error === code)).toBe(true);
  });

  it('answers 503 GW_NO_HEALTHY_INSTANCE at once when a lookup succeeds with no address', async () => {
    dns.set(NAME, { A: [] });
    await waitFor(() => gw.server.current.services.get('samples')?.instances.length === 0, 3000, 'no instance');
    const started = performance.now();
    const res = await fetch(`${gw.url}/samples/x`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('GW_NO_HEALTHY_INSTANCE');
    expect(performance.now() - started).toBeLessThan(200);
    const health = (await fetch(`${gw.url}/health/services`).then((r) => r.json())) as { services: Record<string, { status: string }> };
    expect(health.services.samples.status).toBe('unhealthy');
    setAddresses(ADDRESSES[0]);
    await waitFor(() => gw.server.current.services.get('samples')?.instances.length === 1, 3000, 'the instance back');
  });

  it('starts with a name that does not resolve yet, reports the service unhealthy, and serves once it resolves', async () => {
    const res = await fetch(`${gw.url}/later/x`);
    expect(res.status).toBe(503);
    const health = (await fetch(`${gw.url}/health/services`).then((r) => r.json())) as { services: Record<string, { status: string; discovery: { lastError: string } }> };
    expect(health.services.later).toMatchObject({ status: 'unhealthy', discovery: { lastError: 'ENOTFOUND' } });
    dns.set('later.lab.test', { A: [{ address: ADDRESSES[1] }] });
    await waitFor(() => gw.server.current.services.get('later')?.instances.length === 1, 3000, 'the name resolving');
    const ok = await fetch(`${gw.url}/later/x`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-instance')).toBe(ADDRESSES[1]);
  });

  it('serves the lowest SRV priority with the records weights 3:1', async () => {
    await waitFor(() => gw.server.current.services.get('weighted')?.instances.length === 2, 3000, 'the SRV targets');
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${gw.url}/weighted/x`);
      const instance = res.headers.get('x-instance') ?? '';
      counts.set(instance, (counts.get(instance) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ [ADDRESSES[0]]: 150, [ADDRESSES[1]]: 50 });
    // The SRV target's name is the virtual host.
    expect([...instanceAt(ADDRESSES[0]).hosts]).toContain('weighted.lab.test');
  });

  it('asks again after minRefresh, not at once, when the records say TTL 0', async () => {
    await waitFor(() => dns.queriesOf('zero-ttl.lab.test', 'A') > 0, 3000, 'the first lookup');
    const before = dns.queriesOf('zero-ttl.lab.test', 'A');
    await sleep(2000);
    const lookups = dns.queriesOf('zero-ttl.lab.test', 'A') - before;
    // 200 ms ± 10 % between lookups: about 10 in 2 s; never a tight loop.
    expect(lookups).toBeGreaterThanOrEqual(6);
    expect(lookups).toBeLessThanOrEqual(13);
  });

  it('keeps the state of an instance that stays, across refreshes and a reload', async () => {
    setAddresses(ADDRESSES[0]);
    await waitFor(() => gw.server.current.services.get('samples')?.instances.length === 1, 3000, 'one instance');
    const kept = gw.server.current.services.get('samples')!.instances[0];
    await fetch(`${gw.url}/samples/warm`); // opens its pool
    for (let i = 0; i < 3; i++) kept.breaker.onFailure('test');
    const state = kept.breaker.state;
    const pool = kept.pool;
    setAddresses(ADDRESSES[0], ADDRESSES[1]);
    await waitFor(() => gw.server.current.services.get('samples')?.instances.length === 2, 3000, 'two instances');
    const after = gw.server.current.services.get('samples')!.instances.find((i) => i.url === kept.url);
    expect(after).toBe(kept);
    expect(after!.breaker.state).toBe(state);
    expect(after!.pool).toBe(pool);

    await gw.server.swap(configFrom(gatewayYaml('  - { name: extra, path: /extra, service: samples }')));
    const reloaded = gw.server.current.services.get('samples')!;
    expect(reloaded.instances.map((i) => i.url).sort()).toEqual([`http://${ADDRESSES[0]}:${port}`, `http://${ADDRESSES[1]}:${port}`]);
    expect(reloaded.instances.find((i) => i.url === kept.url)).toBe(kept);
    expect((await fetch(`${gw.url}/extra/x`)).status).toBe(200);
  });

  it('shows each discovered instance and the discovery block in /services and counts instances in metrics', async () => {
    const samples = (await services()).find((s) => s.name === 'samples') as { instances: { url: string }[]; discovery: Record<string, unknown> };
    expect(samples.instances.map((i) => i.url).sort()).toEqual([`http://${ADDRESSES[0]}:${port}`, `http://${ADDRESSES[1]}:${port}`]);
    expect(samples.discovery).toMatchObject({ source: 'dns', name: NAME, type: 'A', lastSuccess: expect.any(String), nextRefresh: expect.any(String) });
    expect(await metric('gateway_service_instances', 'service="samples"')).toBe(2);
    expect(gw.logs().some((l) => l.message === 'service instances changed' && Array.isArray(l.added))).toBe(true);
  });
});
