import { AuthServiceValidator, Verdict } from '../../../src/auth/auth-service';
import { BoundedCache } from '../../../src/auth/bounded-cache';
import { GatewayError } from '../../../src/errors/catalog';
import { silentLogger } from '../../../src/observability/logger';
import { UpstreamService } from '../../../src/upstream/service';
import { configFrom } from '../../helpers/gateway';
import { startUpstream, TestUpstream } from '../../helpers/upstream';

/**
 * The Auth Service client against a real HTTP server standing in for the Auth Service, through a
 * real UpstreamService (balancer, pool, breaker), on a clock the test moves: what is cached, for how
 * long, and never past the token's exp.
 */
let authService: TestUpstream;
const asked: { token: string; requestId: string | undefined; body: string }[] = [];
let answers: Record<string, [number, unknown]> = {};
let now = 0;
let service: UpstreamService;

beforeAll(async () => {
  authService = await startUpstream((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      asked.push({ token, requestId: req.headers['x-request-id'] as string | undefined, body });
      const [status, answer] = answers[token] ?? [200, { valid: true, claims: { sub: `svc-${token}` } }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  const config = configFrom(`
version: 1
services:
  auth: { instances: ["${authService.url}"] }
routes:
  - { name: auth, path: /auth, service: auth }
`);
  service = new UpstreamService('auth', config.services.auth, true, { logger: silentLogger(), now: () => now });
});

afterAll(async () => {
  await service.close();
  await authService.close();
});

beforeEach(() => {
  now = 1_700_000_000_000;
  answers = {};
  asked.length = 0;
});

function validator(cacheTtlMs = 60_000, rejectedCacheTtlMs = 5_000): AuthServiceValidator {
  return new AuthServiceValidator(service, {
    answers: new BoundedCache<Verdict>(100, () => now),
    path: '/api/v1/validate',
    cacheTtlMs,
    rejectedCacheTtlMs,
    timeoutMs: 1_000,
    now: () => now,
    logger: silentLogger(),
  });
}

const context = { requestId: 'req-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
const FAR = Number.POSITIVE_INFINITY;

describe('AuthServiceValidator', () => {
  it('asks with the token in the Authorization header and the body, passing the request id on', async () => {
    const verdict = await validator().validate('tok-a', FAR, context);
    expect(verdict).toMatchObject({ valid: true, claims: { sub: 'svc-tok-a' } });
    expect(asked).toEqual([{ token: 'tok-a', requestId: 'req-1', body: JSON.stringify({ token: 'tok-a' }) }]);
  });

  it('reuses a valid answer for cacheTtl, then asks again', async () => {
    const v = validator(60_000);
    await v.validate('tok-b', FAR, context);
    now += 59_999;
    await v.validate('tok-b', FAR, context);
    expect(asked).toHaveLength(1);
    now += 1;
    await v.validate('tok-b', FAR, context);
    expect(asked).toHaveLength(2);
  });

  it("never reuses an answer past the token's exp, however long cacheTtl is", async () => {
    const v = validator(3_600_000);
    const exp = now + 2_000;
    await v.validate('tok-c', exp, context);
    now = exp - 1;
    await v.validate('tok-c', exp, context);
    expect(asked).toHaveLength(1);
    now = exp;
    await v.validate('tok-c', exp, context);
    expect(asked).toHaveLength(2);
  });

  it("never reuses an answer past the exp the service itself gives (RFC 7662 'exp')", async () => {
    answers['tok-d'] = [200, { active: true, exp: Math.floor(now / 1000) + 10 }];
    const v = validator(3_600_000);
    await v.validate('tok-d', FAR, context);
    now += 9_000;
    await v.validate('tok-d', FAR, context);
    now += 1_000;
    await v.validate('tok-d', FAR, context);
    expect(asked).toHaveLength(2);
  });

  it.each([
    ['401 with a detail', [401, { detail: 'token revoked' }], 'token revoked'],
    ['403 without a body the gateway understands', [403, 'nope'], 'it answered 403'],
    ['200 saying valid: false', [200, { valid: false, message: 'session ended' }], 'session ended'],
    ['200 saying active: false', [200, { active: false }], 'it answered valid: false'],
  ] as const)('a refusal (%s) is remembered for rejectedCacheTtl only', async (_name, answer, reason) => {
    answers['tok-e'] = answer as [number, unknown];
    const v = validator(60_000, 5_000);
    expect(await v.validate('tok-e', FAR, context)).toMatchObject({ valid: false, reason });
    now += 4_999;
    await v.validate('tok-e', FAR, context);
    expect(asked).toHaveLength(1);
    now += 1;
    await v.validate('tok-e', FAR, context);
    expect(asked).toHaveLength(2);
  });

  it.each([
    ['a 500', [500, { error: 'db down' }], /it answered 500/],
    ['a 404 (wrong validateWith.path)', [404, {}], /it answered 404 \(is auth.validateWith.path right\?\)/],
  ] as const)('fails closed on %s with GW_AUTH_UNAVAILABLE, caching nothing', async (_name, answer, detail) => {
    answers['tok-f'] = answer as [number, unknown];
    const v = validator();
    for (let i = 0; i < 2; i++) {
      const err = await v.validate('tok-f', FAR, context).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ code: 'GW_AUTH_UNAVAILABLE', status: 503 });
      expect((err as GatewayError).detail).toMatch(detail);
    }
    expect(asked).toHaveLength(2);
  });
});
