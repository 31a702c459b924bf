import { ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'undici';
import { waitFor } from '../helpers/http';
import { distEntry, runNode, RunningProcess } from '../helpers/process';
import { closedPort } from '../helpers/upstream';

export type FaultMode = 'ok' | 'hang' | 'drip' | 'reset-third';

export interface Instance {
  name: string;
  port: number;
  url: string;
  setMode(mode: FaultMode): void;
  /** SIGKILL: the process dies with requests in flight, as a crashed or OOM-killed service does. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Every instance and gateway a scenario started is killed after it, whatever the outcome. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Starts a service instance in its own node process (test/faults/instance.js). */
export async function startInstance(name: string, options: { port?: number; mode?: FaultMode; delayMs?: number } = {}): Promise<Instance> {
  const child = fork(join(__dirname, 'instance.js'), [], {
    env: { PATH: process.env.PATH ?? '', INSTANCE_NAME: name, PORT: String(options.port ?? 0), FAULT_MODE: options.mode ?? 'ok', DELAY_MS: String(options.delayMs ?? 0) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`instance ${name} exited with ${code} before listening`)));
  });
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    setMode: (mode) => child.send({ mode }),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
      running.delete(child);
    },
  };
}

export interface GatewayProcess {
  port: number;
  url: string;
  file: string;
  process: RunningProcess;
  /** Milliseconds since the start of the gateway until a log line with this message appeared. */
  logged(message: string): boolean;
}

/** The shipped CLI (`node dist/cli/index.js start`) serving `yaml` from a temp file it watches. */
export async function startGatewayProcess(yaml: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-faults-'));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, yaml);
  const port = await closedPort();
  const proc = runNode(distEntry('cli/index.js'), ['start', '--config', file], { PORT: String(port), LOG_LEVEL: 'info', ...env });
  running.add(proc.child);
  await waitFor(() => proc.jsonLines.some((l) => l.message === 'gateway listening') || proc.child.exitCode !== null, 15_000, 'gateway start');
  if (proc.child.exitCode !== null) throw new Error(`gateway exited at start:\n${proc.output()}`);
  return { port, url: `http://127.0.0.1:${port}`, file, process: proc, logged: (message) => proc.jsonLines.some((l) => l.message === message) };
}

/** One kind of request the load sends: a method and how its body travels. */
export interface Variant {
  label: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body: 'none' | 'small' | 'streamed' | 'chunked';
}

export const MATRIX: Variant[] = [
  { label: 'GET, no body', method: 'GET', body: 'none' },
  { label: 'DELETE, no body', method: 'DELETE', body: 'none' },
  { label: 'POST, small buffered', method: 'POST', body: 'small' },
  { label: 'POST, streamed with length', method: 'POST', body: 'streamed' },
  { label: 'POST, chunked', method: 'POST', body: 'chunked' },
  { label: 'PUT, small buffered', method: 'PUT', body: 'small' },
  { label: 'PUT, streamed with length', method: 'PUT', body: 'streamed' },
  { label: 'PATCH, chunked', method: 'PATCH', body: 'chunked' },
];

export const GET_ONLY: Variant[] = [MATRIX[0]];

const SAMPLE = Buffer.from(JSON.stringify({ sample: 'S-0042', volumeUl: 250, notes: 'x'.repeat(200) }));

/**
 * Two pieces with a pause between them: the gateway is already proxying while the body is still
 * coming, so an instance that dies or resets meets a streamed body mid-upload (5 ms of every
 * streamed request are spent there).
 */
async function* slowPieces(): AsyncGenerator<Buffer> {
  yield SAMPLE.subarray(0, 100);
  await new Promise((r) => setTimeout(r, 5));
  yield SAMPLE.subarray(100);
}

function requestBody(variant: Variant): { body?: string | Readable; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (variant.body) {
    case 'none':
      return { headers: {} };
    case 'small':
      return { body: SAMPLE.toString(), headers };
    case 'streamed':
      return { body: Readable.from(slowPieces()), headers: { ...headers, 'content-length': String(SAMPLE.length) } };
    case 'chunked':
      return { body: Readable.from(slowPieces()), headers };
  }
}

export interface Outcome {
  /** Milliseconds since the load started, when the request was sent and when it ended. */
  sentAt: number;
  endedAt: number;
  variant: string;
  path: string;
  /** HTTP status, or `lost` (no answer at all: reset, closed, client timeout) or `refused` (no connection). */
  status: number | 'lost' | 'refused';
  instance?: string;
  /** The X-Config header of the answer (which config version served it). */
  config?: string;
  /** Whether the answer carried a RateLimit header (the limiter's store answered). */
  counted?: boolean;
  error?: string;
}

export interface LoadOptions {
  url: string;
  /** Paths, taken in turn by the clients (a path per client: client i calls paths[i % length]). */
  paths: string[];
  variants: Variant[];
  clients?: number;
  durationMs: number;
  /** Upper bound of requests per client, so the load stops by itself on a fast machine too. */
  maxPerClient?: number;
  /** Stop a client at its first refused connection (the gateway has stopped listening). */
  stopOnRefused?: boolean;
  /** Source address of every client connection. */
  localAddress?: string;
  /** Pause between one client's requests. */
  pauseMs?: number;
}

export interface Load {
  startedAt: number;
  /** Milliseconds since the load started. */
  now(): number;
  done: Promise<Outcome[]>;
}

/**
 * Steady bounded load: `clients` keep-alive connections, each sending one request after the other
 * (variants in turn) until the duration is over. Every request has a 10 s client-side deadline,
 * past which it counts as lost.
 */
export function startLoad(options: LoadOptions): Load {
  const { clients = 8, durationMs, maxPerClient = 5000 } = options;
  const startedAt = performance.now();
  const now = () => performance.now() - startedAt;
  const outcomes: Outcome[] = [];
  const oneClient = async (index: number) => {
    const client = new Client(options.url, { headersTimeout: 10_000, bodyTimeout: 10_000, keepAliveTimeout: 30_000, localAddress: options.localAddress });
    const path = options.paths[index % options.paths.length];
    try {
      for (let n = 0; n < maxPerClient && now() < durationMs; n++) {
        const variant = options.variants[(n + index) % options.variants.length];
        const { body, headers } = requestBody(variant);
        const sentAt = now();
        const outcome: Outcome = { sentAt, endedAt: sentAt, variant: variant.label, path, status: 'lost' };
        try {
          const res = await client.request({ path: `${path}/${n}`, method: variant.method, headers, body });
          await res.body.text();
          outcome.status = res.statusCode;
          outcome.instance = typeof res.headers['x-instance'] === 'string' ? res.headers['x-instance'] : undefined;
          outcome.config = typeof res.headers['x-config'] === 'string' ? res.headers['x-config'] : undefined;
          outcome.counted = res.headers.ratelimit !== undefined;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
          outcome.error = code;
          outcome.status = code === 'ECONNREFUSED' ? 'refused' : 'lost';
        }
        outcome.endedAt = now();
        outcomes.push(outcome);
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
        if (outcome.status === 'refused') {
          if (options.stopOnRefused) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      await client.destroy();
    }
  };
  const done = Promise.all(Array.from({ length: clients }, (_, i) => oneClient(i))).then(() => outcomes);
  return { startedAt, now, done };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds with two decimals, or a dash when the event never happened. */
export const seconds = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);

function tally(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) if (o.status !== 'lost') counts.set(String(o.status), (counts.get(String(o.status)) ?? 0) + 1);
  return (
    [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}×${n}`)
      .join(', ') || '—'
  );
}

/** A markdown table of one scenario: a row per request kind, then the totals and the timings. */
export function scenarioTable(title: string, outcomes: Outcome[], timings: Record<string, string>, rowOf: (o: Outcome) => string = (o) => o.variant): string {
  const rows = new Map<string, Outcome[]>();
  for (const o of outcomes) rows.set(rowOf(o), [...(rows.get(rowOf(o)) ?? []), o]);
  const line = (label: string, list: Outcome[]) => `| ${label} | ${list.length} | ${tally(list)} | ${list.filter((o) => o.status === 'lost').length} |`;
  const lostErrors = [...new Set(outcomes.filter((o) => o.status === 'lost').map((o) => o.error))].join(', ');
  return [
    `#### ${title}`,
    '',
    '| request | sent | answered by status | lost |',
    '|---|---:|---|---:|',
    ...[...rows.entries()].map(([label, list]) => line(label, list)),
    line('**all**', outcomes),
    '',
    Object.entries({ ...timings, ...(lostErrors ? { 'lost requests failed with': lostErrors } : {}) })
      .map(([k, v]) => `${k}: ${v}`)
      .join(' · '),
    '',
  ].join('\n');
}

/** Milliseconds from `from` to the end of the last request at or after it that failed (non-2xx or lost). */
export function lastFailureAfter(outcomes: Outcome[], from: number): number | undefined {
  const failures = outcomes.filter((o) => o.endedAt >= from && (o.status === 'lost' || (typeof o.status === 'number' && o.status >= 300)));
  return failures.length === 0 ? undefined : Math.max(...failures.map((o) => o.endedAt)) - from;
}

/** Milliseconds from `from` to the first answer at or after it that `instance` served. */
export function firstServedBy(outcomes: Outcome[], instance: string, from: number): number | undefined {
  const served = outcomes.filter((o) => o.sentAt >= from && o.instance === instance && o.status === 200);
  return served.length === 0 ? undefined : Math.min(...served.map((o) => o.endedAt)) - from;
}

export const lost = (outcomes: Outcome[]) => outcomes.filter((o) => o.status === 'lost');

/** The error a gateway process died of, when it died, for the scenario's notes. */
export function deathNote(gw: GatewayProcess): Record<string, string> {
  if (gw.process.child.exitCode === null && gw.process.child.signalCode === null) return {};
  const error = /^\s*(\w*Error\b.*)$/m.exec(gw.process.output())?.[1] ?? 'no error printed';
  return { 'gateway process': `exited (code ${gw.process.child.exitCode}): ${error.slice(0, 160)}` };
}
