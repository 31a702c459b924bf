import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import type { GatewayConfig } from '../config/types';
import { parseDuration } from '../config/units';
import type { RequestUser, StageDeps } from '../pipeline/types';
import { AuthServiceValidator, CallContext, Verdict } from './auth-service';
import { invalidToken } from './bearer';
import { BoundedCache } from './bounded-cache';
import { claimHeaders, userFromClaims } from './identity';
import { jwksFetcher, JwksKeySource } from './jwks';
import { jsonwebtoken, JwtVerifier, KeyLookup } from './jwt-verifier';

/**
 * A verified token is reused for at most this long even when it lives longer, so keys that
 * disappear from a JWKS endpoint stop being trusted within minutes.
 */
export const VERIFIED_REUSE_CAP_MS = 5 * 60_000;

/**
 * Token → user, for the routes of one compiled config: local JWT verification and/or the Auth
 * Service, in front of them a cache of verified tokens (bounded, never past the token's exp,
 * iat + maxAge, or the Auth Service answer's lifetime), so a known token costs one map lookup.
 */
export class Authenticator {
  private readonly headers;

  constructor(
    private readonly verifier: JwtVerifier | undefined,
    private readonly validator: AuthServiceValidator | undefined,
    /** Token → user; its owner makes sure every entry was verified under the current auth settings. */
    private readonly verified: BoundedCache<RequestUser>,
    private readonly rolesClaim: string,
    forwardClaims: Record<string, string>,
    private readonly now: () => number,
  ) {
    this.headers = claimHeaders(forwardClaims);
  }

  /** The user of a token verified before and still valid, without any other work. */
  cached(token: string): RequestUser | undefined {
    return this.verified.get(token);
  }

  /** Verifies a token; rejects with GW_INVALID_TOKEN (refused) or GW_AUTH_UNAVAILABLE (cannot tell). */
  async authenticate(token: string, context: CallContext): Promise<RequestUser> {
    let claims: Record<string, unknown>;
    let validUntil: number;
    if (this.verifier !== undefined) {
      ({ claims, validUntil } = await this.verifier.verify(token));
    } else {
      // Only the Auth Service can vouch for this token. Its unverified exp can only shorten what is
      // accepted: a token that says it has expired is refused without asking.
      claims = unverifiedClaims(token);
      validUntil = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
      if (validUntil <= this.now()) throw invalidToken(`The token expired at ${new Date(validUntil).toISOString()}`);
    }
    if (this.validator !== undefined) {
      const verdict = await this.validator.validate(token, validUntil, context);
      if (!verdict.valid) throw invalidToken(`The auth service refused the token: ${verdict.reason}`);
      claims = { ...claims, ...verdict.claims };
      validUntil = Math.min(validUntil, verdict.until);
    }
    const user = userFromClaims(claims, this.headers, this.rolesClaim);
    this.verified.set(token, user, Math.min(validUntil, this.now() + VERIFIED_REUSE_CAP_MS));
    return user;
  }
}

function unverifiedClaims(token: string): Record<string, unknown> {
  try {
    const payload = jsonwebtoken().decode(token, { json: true });
    return payload ?? {};
  } catch {
    // An opaque (non-JWT) token: the Auth Service's answer is all there is.
    return {};
  }
}

function ms(duration: string, fallback: number): number {
  return parseDuration(duration) ?? fallback;
}

function staticKey(jwtConfig: GatewayConfig['auth']['jwt']): KeyObject | undefined {
  // Parsed once here: jsonwebtoken would otherwise re-parse a string key on every verification.
  if (jwtConfig.algorithms.every((a) => a.startsWith('HS'))) {
    return jwtConfig.secret ? createSecretKey(Buffer.from(jwtConfig.secret, 'utf8')) : undefined;
  }
  return jwtConfig.publicKey ? createPublicKey(jwtConfig.publicKey) : undefined;
}

const NOTHING_TO_DISPOSE = (): void => undefined;

/**
 * The authenticator of a config, or undefined when auth is off or no way to verify a token is
 * configured (the config checks refuse a route that requires auth then). Its caches and JWKS keys
 * are resources: a reload that leaves their settings unchanged keeps them, so it causes no burst
 * of verifications, JWKS fetches or Auth Service calls; any change of settings starts them afresh.
 */
export function createAuthenticator(config: GatewayConfig, deps: StageDeps): Authenticator | undefined {
  const auth = config.auth;
  if (!auth.enabled) return undefined;
  const j = auth.jwt;
  const { resources } = deps;
  let keyFor: KeyLookup | undefined;
  const fixed = staticKey(j);
  if (fixed !== undefined) {
    keyFor = () => fixed;
  } else if (j.jwksUri) {
    const source = resources.reuse(
      'auth:jwks',
      JSON.stringify([j.jwksUri, j.jwksCacheTtl, j.jwksRefetchInterval]),
      () =>
        new JwksKeySource(jwksFetcher(j.jwksUri), {
          uri: j.jwksUri,
          cacheTtlMs: ms(j.jwksCacheTtl, 600_000),
          minRefetchMs: ms(j.jwksRefetchInterval, 30_000),
          now: deps.now,
          logger: deps.logger,
        }),
      NOTHING_TO_DISPOSE,
    );
    keyFor = (kid) => source.keyFor(kid);
  }
  const verifier =
    keyFor === undefined
      ? undefined
      : new JwtVerifier(
          {
            algorithms: j.algorithms,
            issuer: j.issuer,
            audience: j.audience,
            clockToleranceMs: ms(j.clockTolerance, 30_000),
            maxAgeMs: j.maxAge ? parseDuration(j.maxAge) : undefined,
          },
          keyFor,
          deps.now,
        );
  const vw = auth.validateWith;
  const service = vw.enabled ? deps.services.get(vw.service) : undefined;
  const validator =
    service === undefined
      ? undefined
      : new AuthServiceValidator(service, {
          // The answers outlive a reload only while the question and who answers it are unchanged.
          answers: resources.reuse(
            'auth:service-answers',
            JSON.stringify([vw, auth.cacheMaxEntries, config.services[vw.service], config.loadBalancing.enabled]),
            () => new BoundedCache<Verdict>(auth.cacheMaxEntries, deps.now),
            NOTHING_TO_DISPOSE,
          ),
          path: vw.path,
          cacheTtlMs: ms(vw.cacheTtl, 60_000),
          rejectedCacheTtlMs: parseDuration(vw.rejectedCacheTtl) ?? 10_000,
          timeoutMs: ms(vw.timeout, 2_000),
          now: deps.now,
          logger: deps.logger,
        });
  if (verifier === undefined && validator === undefined) return undefined;
  // Every auth setting shapes a cached user (keys, checks, claims, headers): any change starts afresh.
  const verified = resources.reuse(
    'auth:verified-tokens',
    JSON.stringify([auth, vw.enabled ? [config.services[vw.service], config.loadBalancing.enabled] : null]),
    () => new BoundedCache<RequestUser>(auth.cacheMaxEntries, deps.now),
    NOTHING_TO_DISPOSE,
  );
  return new Authenticator(verifier, validator, verified, auth.rolesClaim, auth.forwardClaims, deps.now);
}
