import { createPublicKey, KeyObject } from 'node:crypto';
import { GatewayError } from '../errors/catalog';
import type { Logger } from '../observability/logger';
import { invalidToken } from './bearer';

/** What the key source needs of a JWKS client: jwks-rsa's `getSigningKeys` (fetch + JWK → PEM). */
export interface SigningKeyFetcher {
  getSigningKeys(): Promise<{ kid?: string | null; getPublicKey(): string }[]>;
}

export interface JwksOptions {
  uri: string;
  /** Keys older than this are fetched again (in the background while the old ones keep working). */
  cacheTtlMs: number;
  /** Least time between two fetches, whatever asks for them. */
  minRefetchMs: number;
  now: () => number;
  logger: Logger;
}

/** jwks-rsa's own request timeout; a JWKS endpoint that hangs must not hold requests for long. */
const FETCH_TIMEOUT_MS = 5_000;

export function jwksFetcher(uri: string): SigningKeyFetcher {
  // Loaded only when a config uses a JWKS endpoint: jwks-rsa and its dependencies add several MiB
  // to the resident size of every other gateway.
  const { JwksClient } = require('jwks-rsa') as typeof import('jwks-rsa');
  // jwks-rsa's cache and rate limiter drop a key when a refetch fails; this module keeps its own.
  return new JwksClient({ jwksUri: uri, cache: false, rateLimit: false, timeout: FETCH_TIMEOUT_MS });
}

/**
 * Verification keys from a JWKS endpoint, by key id. Fetched on first use, then:
 * - a token naming an unknown `kid` triggers a refetch (key rotation), at most once per
 *   `minRefetchMs`, so tokens with made-up kids cannot turn the gateway into a flood of fetches;
 * - keys older than `cacheTtlMs` are refreshed in the background while they keep being used;
 * - a failing endpoint never removes known keys: they keep verifying tokens until a fetch succeeds.
 * One fetch at a time: concurrent requests share it.
 */
export class JwksKeySource {
  private keys = new Map<string, KeyObject>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private loadedOnce = false;
  /** Number of fetches started so far (for logs and tests). */
  fetches = 0;

  constructor(
    private readonly fetcher: SigningKeyFetcher,
    private readonly options: JwksOptions,
  ) {}

  async keyFor(kid: string | undefined): Promise<KeyObject> {
    const now = this.options.now();
    if (!this.loadedOnce) await this.refresh(now);
    else if (now - this.loadedAt >= this.options.cacheTtlMs) void this.refresh(now);
    let key = this.lookup(kid);
    if (key === undefined && this.loadedOnce) {
      await this.refresh(this.options.now());
      key = this.lookup(kid);
    }
    if (key !== undefined) return key;
    if (!this.loadedOnce) {
      throw new GatewayError('GW_AUTH_UNAVAILABLE', 'The verification keys could not be fetched from the JWKS endpoint; retry shortly', { 'retry-after': '5' });
    }
    throw invalidToken(kid === undefined ? 'The token names no key (kid) and the JWKS endpoint publishes several keys' : `No key with kid "${kid.slice(0, 64)}" is published by the JWKS endpoint`);
  }

  /** Resolves once no fetch is running (a background refresh included). */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  private lookup(kid: string | undefined): KeyObject | undefined {
    if (kid !== undefined) return this.keys.get(kid);
    // A token without kid is only unambiguous while the endpoint publishes a single key.
    return this.keys.size === 1 ? this.keys.values().next().value : undefined;
  }

  /** Fetches unless one is running (then waits for it) or the last one started too recently. */
  private refresh(now: number): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (now - this.lastAttempt < this.options.minRefetchMs) return Promise.resolve();
    this.lastAttempt = now;
    this.fetches++;
    this.inFlight = this.fetcher
      .getSigningKeys()
      .then(
        (signingKeys) => {
          const keys = new Map<string, KeyObject>();
          for (const k of signingKeys) {
            try {
              keys.set(k.kid ?? '', createPublicKey(k.getPublicKey()));
            } catch (err) {
              // One unusable key must not hide the others.
              this.options.logger.warn('JWKS key skipped', { jwksUri: this.options.uri, kid: k.kid, error: String(err) });
            }
          }
          if (keys.size === 0) return;
          this.keys = keys;
          this.loadedAt = this.options.now();
          this.loadedOnce = true;
        },
        (err: unknown) => {
          this.options.logger.warn('JWKS fetch failed; known keys stay in use', {
            jwksUri: this.options.uri,
            knownKeys: this.keys.size,
            error: err instanceof Error ? err.message : String(err),
          });
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
