import { randomFillSync } from 'node:crypto';

/** A client-sent id is kept only when it is short and harmless to echo into headers and logs. */
const SAFE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Random ids come from a buffer filled 4 KiB at a time: a crypto call per id, and even
 * randomUUID()'s own formatting, were a visible share of the request path's CPU time.
 */
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

/** Where `bytes` fresh random bytes start in `pool`. */
function takeRandom(bytes: number): number {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += bytes;
  return at;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** Writes `count` bytes of `pool` from `from` as lowercase hex into `out` at `at`. */
function spellHex(out: Buffer, at: number, from: number, count: number): void {
  for (let i = from; i < from + count; i++) {
    out[at++] = HEX[pool[i] >> 4];
    out[at++] = HEX[pool[i] & 15];
  }
}

/**
 * Where ids are spelled as bytes before each becomes a string in one go, dashes (and the
 * traceparent's version and flags) in place: only the hex digits are written per id.
 */
const uuidBytes = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');
const traceparentBytes = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`, 'latin1');

/**
 * A random (version 4) UUID, as randomUUID() writes it: spelled into bytes and made a string in
 * one go (a hex string cut into five and joined again made six strings and a rope to flatten).
 */
function randomUuid(): string {
  const at = takeRandom(16);
  pool[at + 6] = (pool[at + 6] & 0x0f) | 0x40;
  pool[at + 8] = (pool[at + 8] & 0x3f) | 0x80;
  spellHex(uuidBytes, 0, at, 4);
  spellHex(uuidBytes, 9, at + 4, 2);
  spellHex(uuidBytes, 14, at + 6, 2);
  spellHex(uuidBytes, 19, at + 8, 2);
  spellHex(uuidBytes, 24, at + 10, 6);
  return uuidBytes.toString('latin1');
}

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_ID.test(header) ? header : randomUuid();
}

export interface TraceContext {
  traceId: string;
  /** The gateway's own span: the parent id the upstream sees. */
  spanId: string;
  flags: string;
  traceparent: string;
}

/**
 * W3C trace context: an incoming valid `traceparent` is continued (same trace id, the gateway's
 * span as the new parent); anything else starts a new trace.
 */
export function traceContextFrom(header: string | string[] | undefined): TraceContext {
  const m = typeof header === 'string' ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  const valid = m !== null && m[1] !== 'ff' && !/^0+$/.test(m[2]) && !/^0+$/.test(m[3]);
  if (valid) {
    const at = takeRandom(8);
    const spanId = pool.toString('hex', at, at + 8);
    return { traceId: m[2], spanId, flags: m[4], traceparent: `00-${m[2]}-${spanId}-${m[4]}` };
  }
  // A new trace: the traceparent spelled as one string, the ids cut from it.
  const at = takeRandom(24);
  spellHex(traceparentBytes, 3, at, 16);
  spellHex(traceparentBytes, 36, at + 16, 8);
  const traceparent = traceparentBytes.toString('latin1');
  return { traceId: traceparent.slice(3, 35), spanId: traceparent.slice(36, 52), flags: '01', traceparent };
}
