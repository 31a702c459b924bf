import { randomFillSync, randomUUID } from 'node:crypto';

/** A client-sent id is kept only when it is short and harmless to echo into headers and logs. */
const SAFE_ID = /^[A-Za-z0-9._:@\-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_ID.test(header) ? header : randomUUID();
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Random ids come from a buffer filled 4 KiB at a time: two randomBytes() calls per request were a
 * visible share of the request path's CPU time.
 */
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
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
  const traceId = valid ? m[2] : randomHex(16);
  const flags = valid ? m[4] : '01';
  const spanId = randomHex(8);
  return { traceId, spanId, flags, traceparent: `00-${traceId}-${spanId}-${flags}` };
}
