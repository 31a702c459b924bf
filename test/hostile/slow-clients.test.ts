import { connect, type Socket } from 'node:net';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { startOrdinaryClient } from '../helpers/ordinary-client';
import { startWireUpstream, type WireUpstream } from '../helpers/wire-upstream';
import { SLOW_CLIENTS, type SlowClientCase } from './corpus';
import { hostileGatewayYaml } from './hostile-gateway';
import { PENDING_FIXES } from './pending-fixes';
import { recorded, summaryText, type CaseOutcome } from './summary';

/**
 * The slow-clients family: attackers on 127.0.0.1 that drip, stall or never read, against a gateway
 * with short client timeouts, while an ordinary client on 127.0.0.2 keeps calling. Each case checks
 * that the gateway cuts the attacker within its timeout plus one second and that the ordinary client
 * sees nothing but its usual answer.
 */
const TIMEOUTS = { headersTimeout: 2000, requestTimeout: 4000 };
const GRACE_MS = 1000;
/** How long a case holds its connections when no timeout is meant to cut them (readers that never read). */
const NEVER_READS_HOLD_MS = 4000;

/** One gateway and upstream per case, so an instance one attack wrongly blames cannot spill into the next case. */
interface Stand {
  upstream: WireUpstream;
  gateway: RunningGateway;
}

async function startStand(): Promise<Stand> {
  const upstream = await startWireUpstream();
  // /api waits 2 s for the upstream (headers and body): a reader that stalls longer must not be
  // counted against the instance.
  const gateway = await startGateway(configFrom(hostileGatewayYaml(upstream.url, { apiTimeout: '2s' })));
  return { upstream, gateway };
}

type Result = Awaited<ReturnType<typeof run>>;
const results = new Map<string, Result>();

// One case at a time, each on its own stand: with all of them in this one process at once, the
// test's own clients (800 attacking connections, readers that never read) delayed the moments the
// cuts were measured by more than the second of grace, which said nothing about the gateway.
beforeAll(async () => {
  for (const [i, c] of SLOW_CLIENTS.cases.entries()) results.set(c.id, await run(c, i));
}, 120_000);

interface Attacker {
  socket: Socket;
  connectedAt: number;
  closedAt?: number;
}

/** The pieces one attacking connection sends, in order, `intervalMs` apart (never all of them when cut). */
function piecesOf(c: SlowClientCase, host: string): Buffer[] {
  const headStart = `POST /api/slow HTTP/1.1\r\nHost: ${host}\r\n`;
  switch (c.kind) {
    case 'head-drip': {
      if (c.pieceBytes === 1) return [...`GET /api/slow HTTP/1.1\r\nHost: ${host}\r\n${'X-Drip: a\r\n'.repeat(20)}`].map((ch) => Buffer.from(ch));
      return [Buffer.from(`GET /api/slow HTTP/1.1\r\nHost: ${host}\r\n`), ...Array.from({ length: 40 }, (_, i) => Buffer.from(`X-Drip-${i}: a\r\n`))];
    }
    case 'body-drip': {
      const size = 100;
      const piece = c.pieceBytes ?? 1;
      return [Buffer.from(`${headStart}Content-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`), ...Array.from({ length: size / piece }, () => Buffer.alloc(piece, 0x61))];
    }
    case 'half-open':
      return c.pieceBytes === 2 ? [Buffer.from(`GET /api/slow HTTP/1.1\r\nHost: ${host}\r\n`)] : [Buffer.from('GET /api/sl')];
    case 'silent':
      return [];
    case 'never-reads':
      return [Buffer.from(`GET /api/big/8000000 HTTP/1.1\r\nHost: ${host}\r\n\r\n`)];
  }
}

/**
 * One attacking connection. It gives up `limitMs + 500` after it connected; only a close the gateway
 * made before then counts as a cut.
 */
function attack(c: SlowClientCase, gateway: RunningGateway, limitMs: number): Promise<Attacker> {
  return new Promise((resolve) => {
    const socket = connect({ port: gateway.port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    const attacker: Attacker = { socket, connectedAt: 0 };
    let gaveUp = false;
    socket.on('error', () => undefined);
    // A reader that never reads: the kernel buffers fill and the gateway must cope with backpressure.
    if (c.kind === 'never-reads') socket.pause();
    else socket.resume();
    socket.on('close', () => {
      if (!gaveUp) attacker.closedAt = performance.now();
      resolve(attacker);
    });
    socket.on('connect', async () => {
      attacker.connectedAt = performance.now();
      const deadline = attacker.connectedAt + limitMs + 500;
      // Bounded whatever the gateway does: at the deadline the attacker gives up and reports open.
      setTimeout(() => {
        gaveUp = attacker.closedAt === undefined;
        socket.destroy();
      }, limitMs + 500);
      for (const piece of piecesOf(c, `127.0.0.1:${gateway.port}`)) {
        if (socket.destroyed || performance.now() > deadline) break;
        socket.write(piece);
        await new Promise((r) => setTimeout(r, c.intervalMs ?? 0));
      }
    });
  });
}

async function run(c: SlowClientCase, index: number) {
  const { upstream, gateway } = await startStand();
  try {
    const limitMs = c.expect.cutBy ? TIMEOUTS[c.expect.cutBy] + GRACE_MS : NEVER_READS_HOLD_MS;
    const ordinary = startOrdinaryClient(`${gateway.url}/api/ordinary`, { localAddress: `127.0.0.${100 + index}` });
    const attackers = await Promise.all(Array.from({ length: c.connections ?? 1 }, () => attack(c, gateway, limitMs)));
    // The ordinary client keeps calling a little after the attack, when a wrongly opened circuit shows.
    await new Promise((r) => setTimeout(r, 1000));
    const tally = await ordinary.stop();
    const completed = upstream.requests.filter((r) => r.target === '/api/slow').length;
    return { attackers, ordinary: tally, completed, limitMs };
  } finally {
    await gateway.stop();
    await upstream.close();
  }
}

const outcomes: CaseOutcome[] = [];
afterAll(() => process.stdout.write(summaryText('hostile requests, slow clients', outcomes)));

describe('hostile requests: slow clients', () => {
  for (const c of SLOW_CLIENTS.cases) {
    const pending = PENDING_FIXES.has(c.id);
    (pending ? it.failing : it)(`${c.id} ${c.description}${pending ? ' [pending fix]' : ''}`, () => {
      const result = results.get(c.id);
      if (!result) throw new Error(`case ${c.id} did not run`);
      return recorded(outcomes, c.id, () => check(c, result));
    });
  }
});

function check(c: SlowClientCase, { attackers, ordinary, completed, limitMs }: Result): void {
  expect(ordinary.sent).toBeGreaterThan(0);
  expect(ordinary.byStatus).toEqual({ [String(c.expect.ordinaryStatus)]: ordinary.sent });
  if (c.expect.upstream === 'none') expect(completed).toBe(0);
  if (c.expect.cutBy) {
    const lifetimes = attackers.map((a) => (a.closedAt === undefined ? Infinity : Math.round(a.closedAt - a.connectedAt)));
    const late = lifetimes.filter((ms) => ms > limitMs);
    expect({ connections: lifetimes.length, cutLaterThanMs: limitMs, late: late.length }).toEqual({ connections: lifetimes.length, cutLaterThanMs: limitMs, late: 0 });
  }
}
