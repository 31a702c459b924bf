import { randomFillSync } from 'node:crypto';

/** A client-sent id is kept only when it is short and harmless to echo into headers and logs. */
const SAFE_ID = /^[A-Za-z0-9._:@\-]{1,128}$/;

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

/** A random (version 4) UUID, as randomUUID() writes it. */
function randomUuid(): string {
  const at = takeRandom(16);
  pool[at + 6] = (pool[at + 6] & 0x0f) | 0x40;
  pool[at + 8] = (pool[at + 8] & 0x3f) | 0x80;
  const hex = pool.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
  // The span id and, for a new trace, the trace id: one read of the pool.
  const at = takeRandom(valid ? 8 : 24);
  const hex = pool.toString('hex', at, at + (valid ? 8 : 24));
  const traceId = valid ? m[2] : hex.slice(16);
  const flags = valid ? m[4] : '01';
  const spanId = hex.slice(0, 16);
  return { traceId, spanId, flags, traceparent: `00-${traceId}-${spanId}-${flags}` };
}
