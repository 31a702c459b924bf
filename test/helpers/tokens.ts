import { createHmac, generateKeyPairSync, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** Keys made for the test run: nothing secret is checked in, and every run uses fresh ones. */
export const SECRET = 'lab-secret-for-tests-0123456789abcdef0123456789';
export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
/** A key pair no gateway trusts. */
export const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

export function pem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

/** A JWKS entry for a public key, as an auth server publishes it. */
export function jwk(key: KeyObject, kid: string, alg: string): Record<string, unknown> {
  return { ...(key.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg, use: 'sig' };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The claims of the lab user every valid test token carries, unless a test overrides them. */
export function labClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return { sub: 'user-42', email: 'ada@lab.example.org', roles: ['lab_manager', 'researcher'], iat: now, exp: now + 600, ...overrides };
}

export function mint(claims: Record<string, unknown>, key: string | KeyObject, algorithm: jwt.Algorithm, header: Partial<jwt.JwtHeader> = {}): string {
  return jwt.sign(claims, key, { algorithm, header: { alg: algorithm, ...header } });
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned token (`alg: none`), as an attacker would send it; no library will mint one. */
export function unsigned(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/**
 * HS256 with arbitrary bytes as the HMAC key, built by hand: the classic attack signs with the
 * server's RSA public key (which is public), hoping the server verifies HS256 with that same text.
 */
export function hmacSignedWith(keyText: string, claims: Record<string, unknown>): string {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', keyText).update(input).digest('base64url')}`;
}
