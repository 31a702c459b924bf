import type { KeyObject } from 'node:crypto';
import type { Algorithm, Jwt, JwtPayload, VerifyOptions } from 'jsonwebtoken';
import type { GatewayError } from '../errors/catalog';
import { invalidToken } from './bearer';

export interface JwtRules {
  /** Accepted `alg` values; anything else (including `none`) is refused before any key is used. */
  algorithms: readonly string[];
  /** Required `iss`; empty: not checked. */
  issuer: string;
  /** Required `aud`; empty: not checked. */
  audience: string;
  clockToleranceMs: number;
  /** Oldest accepted token by its `iat`; undefined: no limit. */
  maxAgeMs: number | undefined;
}

/** A key by the token's `kid`: fixed for a secret or a PEM key, fetched for a JWKS endpoint. */
export type KeyLookup = (kid: string | undefined) => KeyObject | Promise<KeyObject>;

export interface VerifiedToken {
  claims: Record<string, unknown>;
  /** Latest moment (ms) this verification may be reused: the token's exp, or iat + maxAge. */
  validUntil: number;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'none';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isoFromSeconds(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'unknown';
}

/** jsonwebtoken, loaded only when a config verifies tokens (~3 MiB of resident memory otherwise). */
export function jsonwebtoken(): typeof import('jsonwebtoken') {
  return require('jsonwebtoken') as typeof import('jsonwebtoken');
}

/**
 * Local verification of a JWT: the algorithm is checked against the accepted list first, then the
 * key is found by `kid`, then jsonwebtoken checks signature, exp, nbf, iss, aud and maxAge with
 * algorithms pinned (so `alg: none` and an HS256 token signed with an RSA public key fail).
 * Every refusal says which check failed.
 */
export class JwtVerifier {
  private readonly accepted: ReadonlySet<string>;
  private readonly options: VerifyOptions;
  private readonly jwt = jsonwebtoken();

  constructor(
    private readonly rules: JwtRules,
    private readonly keyFor: KeyLookup,
    private readonly now: () => number,
  ) {
    this.accepted = new Set(rules.algorithms);
    this.options = {
      algorithms: rules.algorithms as Algorithm[],
      clockTolerance: rules.clockToleranceMs / 1000,
      ...(rules.issuer ? { issuer: rules.issuer } : {}),
      ...(rules.audience ? { audience: rules.audience } : {}),
      ...(rules.maxAgeMs !== undefined ? { maxAge: rules.maxAgeMs / 1000 } : {}),
    };
  }

  async verify(token: string): Promise<VerifiedToken> {
    let decoded: Jwt | null = null;
    try {
      decoded = this.jwt.decode(token, { complete: true });
    } catch {
      // An undecodable header or payload is reported below like any other non-JWT.
    }
    if (decoded === null || typeof decoded.payload !== 'object' || decoded.payload === null) {
      throw invalidToken('The token is not a JWT (header.claims.signature, each base64url-encoded JSON)');
    }
    const { alg, kid } = decoded.header;
    if (!this.accepted.has(alg)) {
      throw invalidToken(
        alg === 'none'
          ? 'The token is unsigned (alg "none"); unsigned tokens are never accepted'
          : `The token's algorithm ${show(alg)} is not accepted (accepted: ${this.rules.algorithms.join(', ')})`,
      );
    }
    const key = await this.keyFor(kid);
    const payload = decoded.payload;
    try {
      this.jwt.verify(token, key, { ...this.options, clockTimestamp: Math.floor(this.now() / 1000) });
    } catch (err) {
      throw this.explain(err, payload, alg);
    }
    let validUntil = typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
    if (this.rules.maxAgeMs !== undefined && typeof payload.iat === 'number') {
      validUntil = Math.min(validUntil, payload.iat * 1000 + this.rules.maxAgeMs);
    }
    return { claims: payload, validUntil };
  }

  private explain(err: unknown, payload: JwtPayload, alg: string): GatewayError {
    const e = err as { name?: string; message?: string; expiredAt?: Date; date?: Date };
    const message = e?.message ?? String(err);
    if (e?.name === 'TokenExpiredError') {
      if (message === 'maxAge exceeded') {
        return invalidToken(`The token is older than auth.jwt.maxAge allows (${this.rules.maxAgeMs} ms; issued ${isoFromSeconds(payload.iat)})`);
      }
      return invalidToken(`The token expired at ${e.expiredAt?.toISOString() ?? isoFromSeconds(payload.exp)}`);
    }
    if (e?.name === 'NotBeforeError') return invalidToken(`The token is not valid before ${e.date?.toISOString() ?? isoFromSeconds(payload.nbf)}`);
    if (message === 'invalid signature') return invalidToken('The token signature does not verify with the configured key');
    if (message.startsWith('jwt issuer invalid')) return invalidToken(`The token's issuer ${show(payload.iss)} is not the accepted issuer ${show(this.rules.issuer)}`);
    if (message.startsWith('jwt audience invalid')) return invalidToken(`The token's audience ${show(payload.aud)} does not include ${show(this.rules.audience)}`);
    if (message === 'iat required when maxAge is specified') return invalidToken('The token has no iat (issued at) claim, which auth.jwt.maxAge needs');
    const badClaim = /^invalid (exp|nbf|iat) value$/.exec(message);
    if (badClaim) return invalidToken(`The token's ${badClaim[1]} claim is not a number of seconds`);
    if (message.startsWith('secretOrPublicKey must be') || message.includes('"alg" parameter')) {
      return invalidToken(`The token's algorithm ${alg} does not fit the key that verifies it`);
    }
    return invalidToken(`The token was refused (${message})`);
  }
}
