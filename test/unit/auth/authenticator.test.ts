import { createSecretKey, KeyObject } from 'node:crypto';
import { Authenticator, VERIFIED_REUSE_CAP_MS } from '../../../src/auth/authenticator';
import { BoundedCache } from '../../../src/auth/bounded-cache';
import { JwtVerifier } from '../../../src/auth/jwt-verifier';
import type { RequestUser } from '../../../src/pipeline/types';
import { mint, SECRET } from '../../helpers/tokens';

/**
 * The verified-token cache in front of local verification, on a clock the test moves: a known
 * token costs no verification, and no entry outlives the token's exp, iat + maxAge, or the cap.
 */
let now = 0;
let keyLookups = 0;
const key: KeyObject = createSecretKey(Buffer.from(SECRET));

function authenticator(maxAgeMs?: number): Authenticator {
  const verifier = new JwtVerifier(
    { algorithms: ['HS256'], issuer: '', audience: '', clockToleranceMs: 0, maxAgeMs },
    () => {
      keyLookups++;
      return key;
    },
    () => now,
  );
  return new Authenticator(verifier, undefined, new BoundedCache<RequestUser>(100, () => now), 'roles', { 'X-User-Id': 'sub' }, () => now);
}

const context = { requestId: 'r', traceparent: 't' };
const seconds = () => Math.floor(now / 1000);

beforeEach(() => {
  now = 1_700_000_000_000;
  keyLookups = 0;
});

describe('Authenticator', () => {
  it('verifies a token once; later requests get the cached user', async () => {
    const auth = authenticator();
    const token = mint({ sub: 'u1', iat: seconds(), exp: seconds() + 60 }, SECRET, 'HS256');
    expect(auth.cached(token)).toBeUndefined();
    const user = await auth.authenticate(token, context);
    expect(user.forwardHeaders).toEqual({ 'x-user-id': 'u1' });
    expect(auth.cached(token)).toBe(user);
    expect(keyLookups).toBe(1);
  });

  it.each([
    ["the token's exp", { exp: 60 }, undefined, 60_000],
    ['iat + maxAge when it comes first', { exp: 3_600 }, 30_000, 30_000],
    ['the reuse cap for long-lived tokens', { exp: 86_400 }, undefined, VERIFIED_REUSE_CAP_MS],
    ['the reuse cap for tokens without exp', {}, undefined, VERIFIED_REUSE_CAP_MS],
  ])('keeps a verified token no longer than %s', async (_name, lifetime, maxAgeMs, keptMs) => {
    const auth = authenticator(maxAgeMs);
    const claims: Record<string, unknown> = { sub: 'u1', iat: seconds() };
    if ('exp' in lifetime) claims.exp = seconds() + lifetime.exp;
    const token = mint(claims, SECRET, 'HS256');
    await auth.authenticate(token, context);
    now += keptMs - 1;
    expect(auth.cached(token)).toBeDefined();
    now += 1;
    expect(auth.cached(token)).toBeUndefined();
  });

  it('caches nothing for a refused token', async () => {
    const auth = authenticator();
    const token = mint({ sub: 'u1', exp: seconds() - 1 }, SECRET, 'HS256');
    await expect(auth.authenticate(token, context)).rejects.toMatchObject({ code: 'GW_INVALID_TOKEN' });
    expect(auth.cached(token)).toBeUndefined();
  });
});
