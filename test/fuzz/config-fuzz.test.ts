import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { lintFiles } from '../../src/cli/lint';
import { checkConfigText } from '../../src/config';
import type { Env } from '../../src/config/env';
import { healthStallDuring } from '../helpers/health-stall';
import { rawRequest } from '../helpers/http';
import { startGateway } from '../helpers/gateway';
import { startReloadable, ReloadableGateway } from '../helpers/reloadable';
import { startUpstream, TestUpstream } from '../helpers/upstream';
import { FuzzCase, fuzzCase } from './routes-documents';

/**
 * Property-based fuzzing of routes.yaml: lint, start and hot reload on random and mutated
 * documents. Bounded: a fixed seed and number of runs (well under a minute here). Another seed
 * explores other documents: CONFIG_FUZZ_SEED=123 CONFIG_FUZZ_RUNS=1000 npx jest test/fuzz
 * (a failure prints the seed and path that reproduce it).
 */
const SEED = Number(process.env.CONFIG_FUZZ_SEED ?? 17_2026);
const RUNS = Number(process.env.CONFIG_FUZZ_RUNS ?? 120);
/** lint of one document; generous for a loaded CI machine, far below what a hang would take. */
const LINT_BUDGET_MS = 10_000;
const HEALTH_STALL_MS = 100;

interface JsonReport {
  files: { file: string; problems: { line: number; column: number; message: string }[] }[];
}

let upstream: TestUpstream;
let reloadable: ReloadableGateway;
let reloadEnv: Env = {};
const dir = mkdtempSync(join(tmpdir(), 'gw-fuzz-'));

beforeAll(async () => {
  upstream = await startUpstream();
  const initial = `version: 1\nservices:\n  samples: { instances: ["${upstream.url}"] }\nroutes:\n  - { name: samples, path: /samples, service: samples }\n`;
  reloadable = await startReloadable(initial, { env: () => reloadEnv });
});
afterAll(async () => {
  await reloadable.stop();
  await upstream.close();
});

/** Lines as editors count them (YAML breaks lines at LF, CR LF and CR), after a BOM. */
function linesOf(bytes: Buffer): string[] {
  return bytes
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/);
}

function outsideTheFile(bytes: Buffer, report: JsonReport): string[] {
  const lines = linesOf(bytes);
  return report.files.flatMap((f) =>
    f.problems.filter((p) => !(p.line >= 1 && p.line <= lines.length && p.column >= 1 && p.column <= lines[p.line - 1].length + 1)).map((p) => `${p.line}:${p.column} ${p.message}`),
  );
}

/** Starts a gateway on an accepted document and proxies one request of its first route. */
async function servesWithoutWarnings(file: string, c: FuzzCase): Promise<void> {
  const config = checkConfigText(file, c.bytes.toString('utf8'), c.env).config;
  if (!config) throw new Error('lint accepted a document the loader refuses');
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const gateway = await startGateway(config);
  try {
    const route = config.routes[0];
    const method = route.methods.includes('GET') ? 'GET' : route.methods[0];
    const proxied = () => upstream.received.filter((r) => r.url?.endsWith('/fuzz')).length; // not the health checks
    const before = proxied();
    const res = await rawRequest(`${gateway.url}${route.path}/fuzz`, { method, headers: route.host ? { host: route.host.replace(/^\*\./, 'a.') } : {} });
    expect({ status: res.status, body: method === 'HEAD' ? '' : res.body.slice(0, 300) }).toEqual({ status: 200, body: expect.any(String) });
    expect(proxied()).toBe(before + 1);
    await new Promise((r) => setImmediate(r));
    // An instance found healthy is logged at warn like every health transition; it is no complaint.
    const healthy = (l: Record<string, unknown>) => l.message === 'instance health changed' && l.to === 'healthy';
    const complaints = gateway.logs().filter((l) => (l.level === 'warn' || l.level === 'error') && !healthy(l));
    expect([...warnings, ...complaints.map((l) => JSON.stringify(l))]).toEqual([]);
  } finally {
    process.off('warning', onWarning);
    await gateway.stop();
  }
}

describe('config fuzzing', () => {
  it(`lint, start and reload hold on ${RUNS} random and mutated routes.yaml documents (seed ${SEED})`, async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fuzzCase(upstream.url), async (c) => {
        const file = join(dir, 'routes.yaml');
        writeFileSync(file, c.bytes);

        const started = Date.now();
        const out = lintFiles([file], 'json', c.env);
        expect(Date.now() - started).toBeLessThan(LINT_BUDGET_MS);
        expect([0, 1, 2]).toContain(out.exitCode);
        const report = JSON.parse(out.stdout) as JsonReport;
        expect(outsideTheFile(readFileSync(file), report)).toEqual([]);

        if (out.exitCode === 0) {
          accepted++;
          await servesWithoutWarnings(file, c);
        }

        reloadEnv = c.env;
        writeFileSync(reloadable.file, c.bytes);
        const { result, worstMs, stallMs } = await healthStallDuring(reloadable.url, () => reloadable.reloader.reload('file', true));
        expect(['success', 'failure', 'restart_required']).toContain(result.result);
        expect(stallMs).toBeLessThan(HEALTH_STALL_MS);
        // The round trip also waits for the cores other test files keep busy: bounded, more loosely.
        expect(worstMs).toBeLessThan(5 * HEALTH_STALL_MS);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The generator must keep producing documents that pass, or "accepted ones start" tests nothing.
    expect(accepted).toBeGreaterThanOrEqual(Math.ceil(RUNS / 30));
  }, 240_000);
});
