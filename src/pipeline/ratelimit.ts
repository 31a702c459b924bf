import type { GatewayConfig } from '../config/types';
import { addRateLimitHeaders, createLimiter, LimitSpec, Limiter } from '../ratelimit/limiter';
import { connectRedis, RedisConnection } from '../ratelimit/redis-connection';
import type { StoreFailurePolicy } from '../ratelimit/guarded-store';
import type { GatewayRequest, Handler, Next, StageDeps } from './types';
import type { StageFactory } from './types';
import { onRequest } from './descriptor';

/** A failing store is given this long per request, well inside the 250 ms the gateway promises. */
const STORE_TIMEOUT_MS = 150;

function keyType(key: string): string {
  return key.startsWith('header:') ? 'header' : key;
}

/** The windows of one policy: per minute always, per second when `burst` > 0. */
function specs(prefix: string, key: string, requestsPerMinute: number, burst: number, namePrefix: string): LimitSpec[] {
  const out: LimitSpec[] = [{ name: `${namePrefix}minute`, limit: requestsPerMinute, windowMs: 60_000, key, prefix: `${prefix}m:` }];
  if (burst > 0) out.push({ name: `${namePrefix}burst`, limit: burst, windowMs: 1_000, key, prefix: `${prefix}s:` });
  return out;
}

/**
 * Limiters live in `resources`, keyed by route and window: a reload that leaves a route's limit,
 * the store and its failure mode unchanged keeps the limiter and its counters; any other is shut
 * down exactly once (MemoryStore timers included).
 */
function limiterFor(spec: LimitSpec, config: GatewayConfig, deps: StageDeps, connection: RedisConnection | undefined): Limiter {
  const rl = config.rateLimiting;
  const fingerprint = JSON.stringify([spec, rl.store, rl.store === 'redis' ? rl.redisUrl : '', rl.onStoreError]);
  return deps.resources.reuse(
    `ratelimit:${spec.prefix}`,
    fingerprint,
    () => {
      const policy: StoreFailurePolicy = {
        onStoreError: rl.onStoreError,
        timeoutMs: STORE_TIMEOUT_MS,
        report: (err) => {
          deps.metrics.rateLimitStoreErrors.inc();
          connection?.warn(`rate-limit store failed; requests are ${rl.onStoreError === 'allow' ? 'allowed unlimited' : 'refused with 503'} until it is back`, err);
        },
      };
      const limited = deps.metrics.rateLimited;
      return createLimiter(
        spec,
        connection,
        policy,
        (req) => limited.inc({ route: req.gatewayRoute?.name ?? 'unknown', key_type: keyType(spec.key) }),
        (err, message) => deps.logger.debug(message ?? 'express-rate-limit', { error: String(err) }),
      );
    },
    (limiter) => limiter.shutdown(),
  );
}

/**
 * Rate limiting (express-rate-limit; counters in memory or in Redis shared by every gateway
 * process): the route's own limit, then the gateway-wide `global` one. Every answer carries the
 * RateLimit / RateLimit-Policy headers (IETF draft-8) of each limit checked; the first limit
 * exceeded answers 429 with Retry-After.
 */
export const createRateLimitStage: StageFactory = (route, config, deps) => {
  const rl = config.rateLimiting;
  if (!rl.enabled) return null;
  const own = route.config.rateLimit;
  if (!own.enabled && !rl.global.enabled) return null;
  // Asked for on every compile, so a reload that keeps using Redis keeps the connection.
  const connection =
    rl.store === 'redis'
      ? deps.resources.reuse(
          `ratelimit:redis`,
          rl.redisUrl,
          () => connectRedis(rl.redisUrl, deps.logger, deps.now),
          (c) => c.close(),
        )
      : undefined;
  const wanted: LimitSpec[] = [];
  if (own.enabled) wanted.push(...specs(`${rl.prefix}${route.name}:`, own.key, own.requestsPerMinute, own.burst, ''));
  if (rl.global.enabled) wanted.push(...specs(`${rl.prefix}*global:`, 'global', rl.global.requestsPerMinute, rl.global.burst, 'global-'));
  const limiters = wanted.map((spec) => limiterFor(spec, config, deps, connection));

  return onRequest(function rateLimit(req: GatewayRequest, res, next: Next) {
    let index = 0;
    const step: Next = (err) => {
      if (err !== undefined && err !== null) return next(err);
      if (index > 0) {
        addRateLimitHeaders(res, limiters[index - 1], req);
        req.rateLimit = undefined;
      }
      const limiter = limiters[index++];
      if (limiter === undefined) return next();
      limiter.middleware(req, res, step);
    };
    step();
  } satisfies Handler);
};
