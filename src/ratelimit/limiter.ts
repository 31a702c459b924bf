import type { Store } from 'express-rate-limit';
import { GatewayError } from '../errors/catalog';
import type { GatewayRequest, Handler, Next } from '../pipeline/types';
import { GuardedStore, StoreFailurePolicy } from './guarded-store';
import type { RedisConnection } from './redis-connection';

/** A limit's window: `requestsPerMinute` counts per minute, `burst` per second. */
export interface LimitSpec {
  /** Its name in the RateLimit headers. */
  name: string;
  limit: number;
  windowMs: number;
  /** ip | user | header:<Name> | global */
  key: string;
  /** Store key prefix of this limit alone, so no two limits ever share a counter. */
  prefix: string;
}

export interface Limiter {
  readonly spec: LimitSpec;
  readonly middleware: Handler;
  readonly policyHeader: string;
  shutdown(): Promise<void>;
}

export type OnLimited = (req: GatewayRequest, limiter: LimitSpec) => void;

/**
 * express-rate-limit, loaded only when a config has a rate limit (with rate-limit-redis it adds
 * several MiB to the resident size of a gateway without one).
 */
function expressRateLimit(): typeof import('express-rate-limit') {
  return require('express-rate-limit') as typeof import('express-rate-limit');
}

/** The counter key of a request: IPv6 clients grouped by /56 (one customer's prefix), like express-rate-limit does. */
export function keyFunction(key: string): (req: GatewayRequest) => string {
  if (key === 'global') return () => 'global';
  const { ipKeyGenerator } = expressRateLimit();
  const byIp = (req: GatewayRequest) => `ip:${ipKeyGenerator(req.clientIp, 56)}`;
  if (key === 'ip') return byIp;
  if (key === 'user') return (req) => (req.user ? `user:${req.user.sub}` : byIp(req));
  const header = key.slice('header:'.length).toLowerCase();
  return (req) => {
    const value = req.headers[header];
    // A request without the header is counted by its address, never let through unlimited.
    return typeof value === 'string' && value !== '' ? `h:${value}` : byIp(req);
  };
}

function secondsUntil(reset: Date | undefined, windowMs: number): number {
  return Math.max(0, reset ? Math.ceil((reset.getTime() - Date.now()) / 1000) : Math.ceil(windowMs / 1000));
}

/** Appends this limit's entry to the RateLimit header (IETF draft-8: `"name";r=remaining;t=seconds`). */
export function addRateLimitHeaders(res: { getHeader(n: string): unknown; setHeader(n: string, v: string): unknown }, limiter: Limiter, req: GatewayRequest): void {
  const info = req.rateLimit;
  if (!info) return;
  const entry = `"${limiter.spec.name}";r=${info.remaining};t=${secondsUntil(info.resetTime, limiter.spec.windowMs)}`;
  const prior = res.getHeader('ratelimit');
  res.setHeader('ratelimit', prior ? `${String(prior)}, ${entry}` : entry);
  const priorPolicy = res.getHeader('ratelimit-policy');
  res.setHeader('ratelimit-policy', priorPolicy ? `${String(priorPolicy)}, ${limiter.policyHeader}` : limiter.policyHeader);
}

/**
 * One express-rate-limit instance on node's raw req/res: our own key function (client IP after
 * trusted proxies, not Express's req.ip), our own 429 handler (the one error exit), Express-only
 * validations off, headers written by the stage (draft-8 needs Express's res.append).
 */
export function createLimiter(spec: LimitSpec, connection: RedisConnection | undefined, policy: StoreFailurePolicy, onLimited: OnLimited, log: (err: unknown, message?: string) => void): Limiter {
  const { MemoryStore, rateLimit } = expressRateLimit();
  const { RedisStore } = connection ? (require('rate-limit-redis') as typeof import('rate-limit-redis')) : { RedisStore: undefined };
  const inner: Store = connection && RedisStore ? new RedisStore({ sendCommand: (...args: string[]) => connection.sendCommand(...args) as never, prefix: spec.prefix }) : new MemoryStore();
  const store = new GuardedStore(inner, policy);
  const keyOf = keyFunction(spec.key);
  const limiter: Limiter = {
    spec,
    policyHeader: `"${spec.name}";q=${spec.limit};w=${Math.ceil(spec.windowMs / 1000)}`,
    middleware: undefined as unknown as Handler,
    shutdown: () => store.shutdown(),
  };
  const middleware = rateLimit({
    windowMs: spec.windowMs,
    limit: spec.limit,
    standardHeaders: false,
    legacyHeaders: false,
    requestPropertyName: 'rateLimit',
    store,
    passOnStoreError: policy.onStoreError === 'allow',
    validate: false,
    logger: { error: log, warn: log },
    keyGenerator: (req) => keyOf(req as unknown as GatewayRequest),
    handler(req, res, next) {
      const gwReq = req as unknown as GatewayRequest;
      addRateLimitHeaders(res, limiter, gwReq);
      const retryAfter = String(Math.max(1, secondsUntil(gwReq.rateLimit?.resetTime, spec.windowMs)));
      onLimited(gwReq, spec);
      (next as Next)(
        new GatewayError('GW_RATE_LIMITED', `More than ${spec.limit} requests in ${spec.windowMs / 1000} s (limit "${spec.name}"); retry after ${retryAfter} s`, { 'retry-after': retryAfter }),
      );
    },
  });
  (limiter as { middleware: Handler }).middleware = middleware as unknown as Handler;
  return limiter;
}
