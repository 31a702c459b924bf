import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { ROOT } from '../helpers/process';
import { exchange, type RawExchange } from '../helpers/raw-socket';
import { headerValues, startWireUpstream, type WireRequest, type WireUpstream } from '../helpers/wire-upstream';
import { REQUEST_FAMILIES, type HostileCase } from './corpus';
import { hostileGatewayYaml } from './hostile-gateway';
import { hostileTokens } from './hostile-tokens';
import { PENDING_FIXES } from './pending-fixes';
import { recorded, summaryText, type CaseOutcome } from './summary';

/**
 * The hostile-request corpus (test/fixtures/hostile/*.json) against a real gateway, one row per
 * case: raw bytes on a fresh TCP connection, the answer checked, and what reached the upstream
 * checked on the upstream's own wire.
 */
let upstream: WireUpstream;
let gateway: RunningGateway;
let corsGateway: RunningGateway;
let keyServer: Server;
let keyFetches = 0;
let tokens: Record<string, string>;
const outcomes: CaseOutcome[] = [];

beforeAll(async () => {
  upstream = await startWireUpstream();
  keyServer = createServer((req, res) => {
    keyFetches++;
    res.end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  tokens = hostileTokens(`http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`);
  gateway = await startGateway(configFrom(hostileGatewayYaml(upstream.url)));
  corsGateway = await startGateway(configFrom(hostileGatewayYaml(upstream.url, { cors: true })));
});

afterAll(async () => {
  await gateway?.stop();
  await corsGateway?.stop();
  await upstream?.close();
  keyServer?.close();
  const failed = outcomes.filter((o) => !o.passed).map((o) => o.id);
  const summary = summaryText('hostile requests corpus', outcomes);
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  writeFileSync(join(ROOT, 'test-output', 'hostile.md'), `${summary}\n${failed.map((id) => `- ${id}${PENDING_FIXES.has(id) ? ` (pending fix: ${PENDING_FIXES.get(id)})` : ''}`).join('\n')}\n`);
  process.stdout.write(summary);
});

function render(raw: string, port = gateway.port): Buffer {
  const text = raw.replace(/\{\{host\}\}/g, `127.0.0.1:${port}`).replace(/\{\{token:([\w-]+)\}\}/g, (_, name: string) => {
    const token = tokens[name];
    if (token === undefined) throw new Error(`the corpus names an unknown token ${name}`);
    return token;
  });
  return Buffer.from(text, 'latin1');
}

const normalized = (name: string) => name.toLowerCase().replace(/_/g, '-');

/** Every header whose name, read the way WSGI/CGI servers read it, is `name`. */
function identityValues(request: WireRequest, name: string): string[] {
  return request.headers.filter(([n]) => normalized(n) === name).map(([, v]) => v);
}

function expectedUpstreamCount(c: HostileCase, firstStatus: number | 'closed'): [number, number] {
  const u = c.expect.upstream;
  if (u === 'none') return [0, 0];
  if (u === 'once') return [1, 1];
  if (u === 'once-if-2xx') return typeof firstStatus === 'number' && firstStatus >= 200 && firstStatus < 300 ? [1, 1] : [0, 0];
  if (typeof u === 'number') return [u, u];
  return u;
}

function check(c: HostileCase, result: RawExchange, arrived: WireRequest[], fetches: number, malformedBefore: number): void {
  const finals = result.responses.filter((r) => r.status >= 200);
  const first = finals[0];
  const firstStatus: number | 'closed' = first ? first.status : 'closed';
  const e = c.expect;
  if (e.status !== undefined) {
    const allowed = Array.isArray(e.status) ? e.status : [e.status];
    expect({ status: firstStatus, allowed }).toEqual({ status: allowed.includes(firstStatus) ? firstStatus : `one of ${allowed.join(', ')}`, allowed });
  }
  if (e.statuses) expect(finals.map((r) => r.status)).toEqual(e.statuses);
  if (e.problem) {
    expect(first?.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(first?.headers['x-request-id']).toMatch(/\S/);
  }
  // The gateway must never put bytes on the upstream wire that break HTTP/1.1 framing.
  expect(upstream.malformed.slice(malformedBefore)).toEqual([]);
  const [min, max] = expectedUpstreamCount(c, firstStatus);
  expect({ upstreamRequests: arrived.length, min, max }).toEqual({ upstreamRequests: Math.min(Math.max(arrived.length, min), max), min, max });
  const seen = arrived[0];
  if (!seen) return;
  if (e.target !== undefined) expect(seen.target).toBe(e.target);
  for (const name of e.single ?? []) expect(headerValues(seen, name)).toHaveLength(1);
  for (const name of e.absent ?? []) expect(headerValues(seen, name)).toEqual([]);
  for (const name of e.identityAbsent ?? []) expect(identityValues(seen, name)).toEqual([]);
  for (const [name, value] of Object.entries(e.identityEquals ?? {})) expect(identityValues(seen, name)).toEqual([value]);
  if (e.lastForwardedFor !== undefined) {
    const hops = headerValues(seen, 'x-forwarded-for')
      .join(',')
      .split(',')
      .map((h) => h.trim());
    expect(hops[hops.length - 1]).toBe(e.lastForwardedFor);
  }
  if (e.bodyLength !== undefined) expect(seen.body.length).toBe(e.bodyLength);
  if (e.keyFetches !== undefined) expect(fetches).toBe(e.keyFetches);
}

async function run(c: HostileCase): Promise<void> {
  const before = upstream.requests.length;
  const malformedBefore = upstream.malformed.length;
  const fetchesBefore = keyFetches;
  const port = c.gateway === 'cors' ? corsGateway.port : gateway.port;
  const result = await exchange({ port, localAddress: c.source, pieces: [render(c.raw, port)], expectResponses: c.responses ?? 1, waitMs: 3000, lingerMs: 20 });
  for (const next of c.then ?? []) {
    const more = await exchange({ port, localAddress: c.source, pieces: [render(next, port)], waitMs: 3000, lingerMs: 20 });
    result.responses.push(...more.responses);
  }
  // A request smuggled behind the answered one would arrive just after it: give it time to show.
  await new Promise((r) => setTimeout(r, 20));
  check(c, result, upstream.requests.slice(before), keyFetches - fetchesBefore, malformedBefore);
}

for (const family of REQUEST_FAMILIES) {
  describe(`hostile requests: ${family.family}`, () => {
    for (const c of family.cases) {
      const pending = PENDING_FIXES.has(c.id);
      (pending ? it.failing : it)(`${c.id} ${c.description}${pending ? ' [pending fix]' : ''}`, () => recorded(outcomes, c.id, () => run(c)));
    }
  });
}

/** Sends every request case once more without checking answers: the memory it leaves behind is measured. */
async function replayCorpus(): Promise<void> {
  for (const family of REQUEST_FAMILIES) {
    for (const c of family.cases) {
      const port = c.gateway === 'cors' ? corsGateway.port : gateway.port;
      await exchange({ port, localAddress: c.source, pieces: [render(c.raw, port)], expectResponses: c.responses ?? 1, waitMs: 3000 });
    }
  }
}

describe('hostile requests: after the corpus', () => {
  it('memory is flat: replaying the whole corpus grows RSS by less than 40 MB', async () => {
    // The first pass warmed every code path (and every cache up to its bound); a leak shows as the
    // same growth again on the second pass.
    const afterFirstPass = process.memoryUsage().rss;
    await replayCorpus();
    const growthMb = (process.memoryUsage().rss - afterFirstPass) / 2 ** 20;
    expect(growthMb).toBeLessThan(40);
  }, 60_000);

  it('the gateway still answers /health and proxies an ordinary request', async () => {
    const health = await exchange({ port: gateway.port, pieces: [render('GET /health HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\r\n')] });
    expect(health.responses[0]?.status).toBe(200);
    const ordinary = await exchange({ port: gateway.port, pieces: [render('GET /api/after HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\r\n')] });
    expect(ordinary.responses[0]?.status).toBe(200);
  });
});
