import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { RedisStore } from 'rate-limit-redis';
import { GatewayError } from '../errors/catalog';

export interface StoreFailurePolicy {
  /** allow: the request passes unlimited; deny: 503. */
  onStoreError: 'allow' | 'deny';
  /** The longest a store call may take before it counts as failed. */
  timeoutMs: number;
  /** Called for each failure (counter, throttled log). */
  report(err: unknown): void;
}

export class StoreTimeoutError extends Error {}

/**
 * A store with a deadline on every call, so a Redis that stops answering costs a request at most
 * `timeoutMs`. With Redis, it also reloads the counting script after any failure:
 * rate-limit-redis loads it once, and a failed load (Redis down at start) or a Redis restart
 * (scripts are not persisted) would otherwise leave the store broken for good.
 */
export class GuardedStore implements Store {
  private scriptsStale = false;
  readonly localKeys: boolean;
  readonly prefix?: string;

  constructor(
    private readonly inner: Store,
    private readonly policy: StoreFailurePolicy,
  ) {
    this.localKeys = inner.localKeys ?? false;
    this.prefix = inner.prefix;
  }

  init(options: Options): void {
    const started = this.inner.init?.(options);
    if (started instanceof Promise) started.catch(() => (this.scriptsStale = true));
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    if (this.scriptsStale && 'loadIncrementScript' in this.inner) {
      this.scriptsStale = false;
      const redis = this.inner as RedisStore;
      redis.incrementScriptSha = redis.loadIncrementScript();
      redis.getScriptSha = redis.loadGetScript();
      // Awaited on the next increment; a failure here is reported there.
      redis.incrementScriptSha.catch(() => undefined);
      redis.getScriptSha.catch(() => undefined);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.inner.increment(key),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StoreTimeoutError(`rate-limit store did not answer within ${this.policy.timeoutMs} ms`)), this.policy.timeoutMs);
        }),
      ]);
    } catch (err) {
      this.scriptsStale = true;
      this.policy.report(err);
      if (this.policy.onStoreError === 'deny') {
        throw new GatewayError('GW_RATE_LIMIT_UNAVAILABLE', 'The rate-limit store cannot be reached; retry shortly', { 'retry-after': '1' });
      }
      throw err; // express-rate-limit (passOnStoreError) lets the request pass
    } finally {
      clearTimeout(timer);
    }
  }

  async decrement(key: string): Promise<void> {
    await this.inner.decrement(key);
  }

  async resetKey(key: string): Promise<void> {
    await this.inner.resetKey(key);
  }

  async shutdown(): Promise<void> {
    await this.inner.shutdown?.();
  }
}
