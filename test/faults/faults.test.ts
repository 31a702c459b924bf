import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../helpers/http';
import { ROOT } from '../helpers/process';
import { closedPort } from '../helpers/upstream';
import { startWireUpstream } from '../helpers/wire-upstream';
import { hostileGatewayYaml } from '../hostile/hostile-gateway';
import {
  deathNote,
  firstServedBy,
  GET_ONLY,
  type Instance,
  killAll,
  lastFailureAfter,
  lost,
  MATRIX,
  type Outcome,
  scenarioTable,
  seconds,
  sleep,
  startGatewayProcess,
  startInstance,
  startLoad,
} from './harness';
import { PENDING_FAULTS } from './pending-fixes';

/**
 * The fault suite: real gateway processes (the shipped CLI) in front of real instance processes,
 * under steady bounded load, while instances die, hang, drip or reset, Redis dies, the config file
 * turns to garbage, the gateway is stopped, and 10,000 idle connections sit open. Every scenario
 * prints a table; the one property every scenario holds is that no request goes without an HTTP
 * answer (`lost` is 0).
 */
const tables: string[] = [];

afterEach(() => killAll());

afterAll(() => {
  const text = `### Fault suite\n\n${tables.join('\n')}`;
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  writeFileSync(join(ROOT, 'test-output', 'faults.md'), text);
  process.stdout.write(`\n${text}\n`);
});

/** Fast detection everywhere, so each scenario shows the whole fault-and-recovery cycle within seconds. */
const FAST_CHECKS = `
    healthCheck: { interval: 250ms, timeout: 200ms, unhealthyThreshold: 2, healthyThreshold: 1 }
    circuitBreaker: { failureThreshold: 3, minimumRequests: 3, window: 10s, openFor: 500ms, maxOpenFor: 1s }`;

/**
 * The matrix leaves detection to the health checks (about 0.5 s): a breaker that opened after three
 * failures would spare most request kinds the dead instance, and the matrix is there to send every
 * kind to it.
 */
const MATRIX_CHECKS = FAST_CHECKS.replace('failureThreshold: 3, minimumRequests: 3', 'failureThreshold: 50, minimumRequests: 50');

function labYaml(instances: string[], extra = '', checks = FAST_CHECKS): string {
  return `
version: 1
gateway: { host: 127.0.0.1, drainTimeout: 10s }
monitoring: { logRequests: false }
defaults: { timeout: 1s }
services:
  lab:
    instances: [${instances.map((u) => JSON.stringify(u)).join(', ')}]${checks}
${extra}
routes:
  - { name: lab, path: /lab, service: lab }
`;
}

const SERVICE_MS = 50;
const ANSWERS_OF_A_FAILING_INSTANCE = new Set([200, 502, 503, 504]);

function scenario(id: string, title: string, body: () => Promise<void>, timeoutMs = 40_000): void {
  const pending = PENDING_FAULTS.get(id);
  (pending ? it.failing : it)(`${id} ${title}${pending ? ' [pending fix]' : ''}`, body, timeoutMs);
}

type Fault = 'sigkill' | 'hang' | 'drip' | 'reset-third' | 'refuse';
const FAULT_TITLES: Record<Fault, string> = {
  sigkill: 'instance A SIGKILLed mid-load three times, restarted 1 s after each death',
  hang: 'instance A hangs (accepts, never answers) for 2.5 s',
  drip: 'instance A drips its answers one byte every 20 ms for 2.5 s',
  'reset-third': 'instance A resets every third connection for 2.5 s',
  refuse: 'instance A refuses connections (not running) until 3.5 s into the load',
};

describe('faults: method × body × instance fault (two instances, 8 clients)', () => {
  for (const fault of Object.keys(FAULT_TITLES) as Fault[]) {
    scenario(`matrix-${fault}`, FAULT_TITLES[fault], async () => {
      // Answers take 50 ms, as a service that does some work: a fault always meets requests in flight.
      let a: Instance = await startInstance('A', { delayMs: SERVICE_MS });
      const b = await startInstance('B', { delayMs: SERVICE_MS });
      if (fault === 'refuse') await a.kill();
      const gw = await startGatewayProcess(labYaml([a.url, b.url], '', MATRIX_CHECKS));
      const load = startLoad({ url: gw.url, paths: ['/lab'], variants: MATRIX, durationMs: fault === 'sigkill' ? 7000 : 6000 });
      await sleep(1000);
      const faultAt = load.now();
      let restoreAt = 0;
      if (fault === 'sigkill') {
        // Three deaths: what a death meets in flight varies, and each kind of request must survive it.
        for (let kill = 1; kill <= 3; kill++) {
          await a.kill();
          await sleep(1000);
          restoreAt = load.now();
          a = await startInstance('A', { port: a.port, delayMs: SERVICE_MS });
          if (kill < 3) await sleep(700);
        }
      } else {
        if (fault !== 'refuse') a.setMode(fault);
        await sleep(2500);
        restoreAt = load.now();
        if (fault === 'refuse') a = await startInstance('A', { port: a.port, delayMs: SERVICE_MS });
        else a.setMode('ok');
      }
      const outcomes = await load.done;
      const recovery = firstServedBy(outcomes, 'A', restoreAt);
      tables.push(
        scenarioTable(`Instance fault: ${FAULT_TITLES[fault]}`, outcomes, {
          'client-visible errors end': fault === 'refuse' ? seconds(lastFailureAfter(outcomes, 0)) + ' after the load started' : `${seconds(lastFailureAfter(outcomes, faultAt))} after the fault`,
          'A serves again': `${seconds(recovery)} after it was restored${fault === 'sigkill' ? ' the last time' : ''}`,
          ...deathNote(gw),
        }),
      );
      expect(lost(outcomes)).toEqual([]);
      expect(outcomes.filter((o) => !ANSWERS_OF_A_FAILING_INSTANCE.has(o.status as number))).toEqual([]);
      // The healthy instance carried the load throughout.
      expect(outcomes.filter((o) => o.instance === 'B').length).toBeGreaterThan(outcomes.length / 3);
      expect(recovery).toBeDefined();
      expect(recovery!).toBeLessThan(2000);
      expect(gw.process.child.exitCode).toBeNull();
    });
  }
});

describe('faults: whole services and the things around them', () => {
  scenario('all-instances-down', 'every instance of one service down: fast 503s there, the other service unaffected', async () => {
    const [a, b, c, d] = await Promise.all(['A', 'B', 'C', 'D'].map((n) => startInstance(n)));
    await c.kill();
    await d.kill();
    const gw = await startGatewayProcess(`
version: 1
gateway: { host: 127.0.0.1 }
monitoring: { logRequests: false }
defaults: { timeout: 1s }
services:
  lab:
    instances: ["${a.url}", "${b.url}"]${FAST_CHECKS}
  down:
    instances: ["${c.url}", "${d.url}"]${FAST_CHECKS}
routes:
  - { name: lab, path: /lab, service: lab }
  - { name: down, path: /down, service: down }
`);
    // Give the health checks their two rounds, then measure the steady state of a dead service.
    await sleep(800);
    const outcomes = await startLoad({ url: gw.url, paths: ['/lab', '/down'], variants: GET_ONLY, durationMs: 3000 }).done;
    const down = outcomes.filter((o) => o.path === '/down');
    const lab = outcomes.filter((o) => o.path === '/lab');
    const p99 = (list: Outcome[]) => {
      const sorted = list.map((o) => o.endedAt - o.sentAt).sort((x, y) => x - y);
      return sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    };
    tables.push(
      scenarioTable(
        'All instances of /down dead (connection refused); /lab healthy',
        outcomes,
        { '/down p99 answer time': `${p99(down).toFixed(1)} ms`, '/lab p99 answer time': `${p99(lab).toFixed(1)} ms` },
        (o) => `GET ${o.path}`,
      ),
    );
    expect(lost(outcomes)).toEqual([]);
    expect(lab.every((o) => o.status === 200)).toBe(true);
    expect(down.every((o) => o.status === 503)).toBe(true);
    // Fast means no wait on a dead instance: well under the 1 s route timeout and the connect attempt.
    expect(p99(down)).toBeLessThan(250);
  });

  for (const onStoreError of ['allow', 'deny'] as const) {
    scenario(`redis-restart-${onStoreError}`, `Redis SIGKILLed and restarted under load (onStoreError: ${onStoreError})`, async () => {
      const redisPort = await closedPort();
      const startRedis = async (): Promise<ChildProcess> => {
        const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
        await untilRedisAnswers(redisPort);
        return child;
      };
      let redis = await startRedis();
      try {
        const [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
        const gw = await startGatewayProcess(
          labYaml([a.url, b.url], `rateLimiting: { store: redis, redisUrl: "redis://127.0.0.1:${redisPort}", onStoreError: ${onStoreError} }`).replace(
            '{ name: lab, path: /lab, service: lab }',
            '{ name: lab, path: /lab, service: lab, rateLimit: { enabled: true, requestsPerMinute: 1000000 } }',
          ),
        );
        const load = startLoad({ url: gw.url, paths: ['/lab'], variants: GET_ONLY, durationMs: 5500 });
        await sleep(1000);
        const killedAt = load.now();
        redis.kill('SIGKILL');
        await sleep(1500);
        const restartedAt = load.now();
        redis = await startRedis();
        const outcomes = await load.done;
        const outage = outcomes.filter((o) => o.sentAt >= killedAt + 100 && o.endedAt <= restartedAt);
        const countedAgain = outcomes.filter((o) => o.sentAt >= restartedAt && o.counted && o.status === 200).map((o) => o.endedAt - restartedAt);
        const recovery = countedAgain.length ? Math.min(...countedAgain) : undefined;
        tables.push(
          scenarioTable(`Redis (rate-limit store) SIGKILLed, restarted 1.5 s later — onStoreError: ${onStoreError}`, outcomes, {
            'answers during the outage': [...new Set(outage.map((o) => o.status))].join(', '),
            'counted in Redis again': `${seconds(recovery)} after the restart`,
          }),
        );
        expect(lost(outcomes)).toEqual([]);
        expect(outage.length).toBeGreaterThan(0);
        expect(outage.every((o) => o.status === (onStoreError === 'allow' ? 200 : 503))).toBe(true);
        expect(recovery).toBeDefined();
        expect(recovery!).toBeLessThan(2000);
        // Once counted again, every later answer is an ordinary 200.
        expect(outcomes.filter((o) => o.sentAt >= restartedAt + recovery! && o.status !== 200)).toEqual([]);
      } finally {
        redis.kill('SIGKILL');
      }
    });
  }

  scenario('config-garbage-then-fixed', 'routes.yaml replaced by garbage, then by a fixed config, under load', async () => {
    const [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
    const config = (version: string) =>
      labYaml([a.url, b.url]).replace('{ name: lab, path: /lab, service: lab }', `{ name: lab, path: /lab, service: lab, transform: { response: { headers: { set: { X-Config: ${version} } } } } }`);
    const gw = await startGatewayProcess(config('v1'));
    const load = startLoad({ url: gw.url, paths: ['/lab'], variants: MATRIX, durationMs: 5000 });
    await sleep(1000);
    const garbageAt = performance.now();
    writeFileSync(gw.file, 'routes: [ {{ this is not: yaml\n\t- ]]\n');
    await waitFor(() => gw.logged('config reload failed; the previous config keeps serving'), 5000, 'reload failure');
    const detected = performance.now() - garbageAt;
    await sleep(1000);
    const fixedAt = load.now();
    writeFileSync(gw.file, config('v2'));
    const outcomes = await load.done;
    const v2 = outcomes.filter((o) => o.config === 'v2').map((o) => o.endedAt - fixedAt);
    const applied = v2.length ? Math.min(...v2) : undefined;
    tables.push(
      scenarioTable('routes.yaml replaced by garbage, fixed 1 s after the failure was logged', outcomes, {
        'garbage reported in the log': `${seconds(detected)} after the write`,
        'fixed config serving': `${seconds(applied)} after the write`,
      }),
    );
    expect(lost(outcomes)).toEqual([]);
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    expect(outcomes.every((o) => o.config === 'v1' || o.config === 'v2')).toBe(true);
    expect(applied).toBeDefined();
  });

  scenario('sigterm-under-load', 'SIGTERM under load, three times: requests in flight finish, nothing is reset', async () => {
    // Answers take 20 ms, so connections turn over fast while the gateway drains: a connection
    // closed between two requests shows as a reset.
    const [a, b] = await Promise.all([startInstance('A', { delayMs: 20 }), startInstance('B', { delayMs: 20 })]);
    const all: Outcome[] = [];
    const notes: string[] = [];
    let inFlightAnswered = 0;
    let inFlight = 0;
    for (let round = 1; round <= 3; round++) {
      const gw = await startGatewayProcess(labYaml([a.url, b.url]));
      const load = startLoad({ url: gw.url, paths: ['/lab'], variants: MATRIX, durationMs: 6000, stopOnRefused: true });
      await sleep(1000);
      const termAt = load.now();
      gw.process.child.kill('SIGTERM');
      const exitCode = await gw.process.exited;
      const exitedAt = load.now();
      const outcomes = await load.done;
      const atTerm = outcomes.filter((o) => o.sentAt < termAt && o.endedAt >= termAt);
      inFlight += atTerm.length;
      inFlightAnswered += atTerm.filter((o) => typeof o.status === 'number').length;
      notes.push(`exit ${exitCode} after ${seconds(exitedAt - termAt)}`);
      all.push(...outcomes);
      expect(exitCode).toBe(0);
    }
    tables.push(
      scenarioTable('SIGTERM to the gateway under load, three rounds (answers take 20 ms)', all, {
        'in flight at SIGTERM and answered': `${inFlightAnswered} of ${inFlight}`,
        'gateway exits': notes.join(', '),
      }),
    );
    expect(lost(all)).toEqual([]);
    expect(inFlight).toBeGreaterThan(0);
    expect(all.every((o) => o.status === 200 || o.status === 'refused')).toBe(true);
  });

  scenario(
    'idle-connections',
    '10,000 idle client connections held open while serving',
    async () => {
      const wanted = 10_000;
      const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
      // Each side (this process, the gateway) needs one descriptor per connection plus its own.
      const count = Number.isFinite(limit) ? Math.min(wanted, limit - 1000) : wanted;
      const [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
      const gw = await startGatewayProcess(
        labYaml([a.url, b.url]).replace('gateway: { host: 127.0.0.1, drainTimeout: 10s }', 'gateway: { host: 127.0.0.1, headersTimeout: 60s, requestTimeout: 120s }'),
      );
      const idle: Socket[] = [];
      let closedEarly = 0;
      const openedAt = performance.now();
      for (let i = 0; i < count; i += 500) {
        await Promise.all(
          Array.from(
            { length: Math.min(500, count - i) },
            (_, j) =>
              new Promise<void>((resolve, reject) => {
                // Spread over ten source addresses so no single address runs short of ephemeral ports.
                const socket = connect({ port: gw.port, host: '127.0.0.1', localAddress: `127.0.0.${20 + ((i + j) % 10)}` });
                socket.once('connect', () => resolve());
                socket.once('error', reject);
                socket.on('close', () => closedEarly++);
                idle.push(socket);
              }),
          ),
        );
      }
      const openMs = performance.now() - openedAt;
      try {
        const outcomes = await startLoad({ url: gw.url, paths: ['/lab'], variants: MATRIX, durationMs: 3000 }).done;
        const times = outcomes.map((o) => o.endedAt - o.sentAt).sort((x, y) => x - y);
        const rss = execFileSync('ps', ['-o', 'rss=', '-p', String(gw.process.child.pid)])
          .toString()
          .trim();
        tables.push(
          scenarioTable(`${count.toLocaleString('en')} idle connections open while serving${count < wanted ? ` (scaled down from 10,000: ulimit -n is ${limit})` : ''}`, outcomes, {
            'idle connections opened in': seconds(openMs),
            'closed by the gateway while serving': String(closedEarly),
            'p50 / p99 answer time': `${times[Math.floor(times.length / 2)].toFixed(1)} / ${times[Math.floor(times.length * 0.99)].toFixed(1)} ms`,
            'gateway RSS': `${Math.round(Number(rss) / 1024)} MB`,
          }),
        );
        expect(lost(outcomes)).toEqual([]);
        expect(outcomes.every((o) => o.status === 200)).toBe(true);
        expect(closedEarly).toBe(0);
      } finally {
        for (const s of idle) s.destroy();
      }
    },
    90_000,
  );
});

const SLOWHTTPTEST_MODES = {
  slowloris: { flag: '-H', url: '/api/slow', extra: [] as string[], title: 'slowloris (-H): heads sent one header every second' },
  'slow-body': { flag: '-B', url: '/api/slow', extra: ['-s', '8192'], title: 'slow body (-B): 8 KB bodies sent a few bytes every second' },
  'slow-read': { flag: '-X', url: '/api/big/1000000', extra: ['-k', '3', '-n', '1', '-w', '1', '-y', '64', '-z', '32'], title: 'slow read (-X): 1 MB answers read 32 bytes a second' },
};

describe('faults: slowhttptest attacks while an ordinary client keeps calling', () => {
  for (const [mode, attack] of Object.entries(SLOWHTTPTEST_MODES)) {
    scenario(`slowhttptest-${mode}`, `${attack.title}, 300 connections for 12 s, from 127.0.0.1; the ordinary client on 127.0.0.2 sees only 200s`, async () => {
      const upstream = await startWireUpstream();
      try {
        const gw = await startGatewayProcess(hostileGatewayYaml(upstream.url, { apiTimeout: '2s' }));
        const durationS = 12;
        const args = [attack.flag, '-c', '300', '-r', '100', '-i', '1', '-l', String(durationS), '-p', '3', '-u', `${gw.url}${attack.url}`, ...attack.extra];
        const attacker = spawn('slowhttptest', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let report = '';
        attacker.stdout!.on('data', (d: Buffer) => (report += d.toString()));
        const attackEnded = new Promise<void>((resolve) => attacker.on('exit', () => resolve()));
        // Bounded even if slowhttptest hangs: it is killed a little after its own test length.
        const guard = setTimeout(() => attacker.kill('SIGKILL'), (durationS + 15) * 1000);
        await sleep(1500);
        const ordinary = startLoad({ url: gw.url, paths: ['/api/ordinary'], variants: GET_ONLY, clients: 1, durationMs: (durationS - 2) * 1000, localAddress: '127.0.0.2', pauseMs: 100 });
        const outcomes = await ordinary.done;
        await attackEnded;
        clearTimeout(guard);
        // slowhttptest redraws a coloured status block every second; the last one says what it reached.
        const plain = report.replace(/\x1b\[[0-9;]*m/g, '');
        const final = [...plain.matchAll(/pending:\s+(\d+)\s+connected:\s+(\d+)\s+error:\s+(\d+)\s+closed:\s+(\d+)\s+service available:\s+(\w+)/g)].pop();
        const exit = /Exit status:\s*(.*)/.exec(plain)?.[1]?.trim();
        tables.push(
          scenarioTable(
            `slowhttptest ${attack.title}, 300 connections, 12 s`,
            outcomes,
            {
              'slowhttptest at the end': final
                ? `connected ${final[2]}, pending ${final[1]}, closed ${final[4]}, errors ${final[3]}, service available ${final[5]} (${exit ?? 'no exit status'})`
                : 'no report',
              ...deathNote(gw),
            },
            () => 'ordinary GET from 127.0.0.2',
          ),
        );
        expect(outcomes.length).toBeGreaterThan(10);
        expect(lost(outcomes)).toEqual([]);
        expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
        expect(gw.process.child.exitCode).toBeNull();
      } finally {
        await upstream.close();
      }
    });
  }
});

/** Whether a Redis on `port` answers PING (asynchronously: the load keeps running meanwhile). */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}

async function untilRedisAnswers(port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await redisAnswers(port))) {
    if (Date.now() > deadline) throw new Error(`redis on ${port} did not start`);
    await sleep(20);
  }
}
