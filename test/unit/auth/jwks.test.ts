import { jwksFetcher, JwksKeySource } from '../../../src/auth/jwks';
import { GatewayError } from '../../../src/errors/catalog';
import { silentLogger } from '../../../src/observability/logger';
import { closedPort, startUpstream, TestUpstream } from '../../helpers/upstream';
import { ec, jwk, rsa, stranger } from '../../helpers/tokens';

/**
 * The JWKS key source against a real JWKS endpoint (a local server whose answer each test sets),
 * fetched through jwks-rsa, on a clock the test moves.
 */
let endpoint: TestUpstream;
let published: Record<string, unknown>[] = [];
let failing = false;
let now = 0;

beforeAll(async () => {
  endpoint = await startUpstream((_req, res) => {
    if (failing) {
      res.writeHead(500).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published }));
  });
});
afterAll(() => endpoint.close());

beforeEach(() => {
  now = 1_000_000;
  failing = false;
  published = [jwk(rsa.publicKey, 'rsa-1', 'RS256'), jwk(ec.publicKey, 'ec-1', 'ES256')];
});

function source(uri = `${endpoint.url}/jwks.json`): JwksKeySource {
  return new JwksKeySource(jwksFetcher(uri), { uri, cacheTtlMs: 600_000, minRefetchMs: 30_000, now: () => now, logger: silentLogger() });
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe('JwksKeySource', () => {
  it('fetches once, then serves every known kid from memory', async () => {
    const keys = source();
    const first = await keys.keyFor('rsa-1');
    expect(first.asymmetricKeyType).toBe('rsa');
    expect((await keys.keyFor('ec-1')).asymmetricKeyType).toBe('ec');
    expect(await keys.keyFor('rsa-1')).toBe(first);
    expect(keys.fetches).toBe(1);
  });

  it('refetches on an unknown kid (key rotation), at most once per refetch interval', async () => {
    const keys = source();
    await keys.keyFor('rsa-1');
    published = [...published, jwk(stranger.publicKey, 'rsa-2', 'RS256')];

    now += 1_000; // too soon after the first fetch: refused without asking the endpoint
    const soon = await refusal(keys.keyFor('rsa-2'));
    expect(soon).toMatchObject({ code: 'GW_INVALID_TOKEN', detail: 'No key with kid "rsa-2" is published by the JWKS endpoint' });
    await refusal(keys.keyFor('made-up'));
    expect(keys.fetches).toBe(1);

    now += 30_000;
    expect((await keys.keyFor('rsa-2')).asymmetricKeyType).toBe('rsa');
    expect(keys.fetches).toBe(2);
    // A flood of made-up kids right after costs no fetch.
    await Promise.all(Array.from({ length: 20 }, (_, i) => refusal(keys.keyFor(`made-up-${i}`))));
    expect(keys.fetches).toBe(2);
  });

  it('keeps the known keys working while the endpoint fails, past their cache time', async () => {
    const keys = source();
    const known = await keys.keyFor('rsa-1');
    failing = true;
    now += 600_000; // stale: a background refresh starts and fails
    expect(await keys.keyFor('rsa-1')).toBe(known);
    expect(keys.fetches).toBe(2);
    await keys.settled();
    expect(await keys.keyFor('ec-1')).toBeDefined();
    now += 30_000; // an unknown kid may try again; the fetch fails; known keys stay
    expect(await refusal(keys.keyFor('rsa-9'))).toMatchObject({ code: 'GW_INVALID_TOKEN' });
    expect(keys.fetches).toBe(3);
    expect(await keys.keyFor('rsa-1')).toBe(known);

    failing = false;
    now += 30_000;
    published = [jwk(ec.publicKey, 'ec-1', 'ES256')]; // rsa-1 retired once the endpoint is back
    // The stale key serves while the refresh runs; once the refresh is in, the retired key is gone.
    expect(await keys.keyFor('rsa-1')).toBe(known);
    expect(keys.fetches).toBe(4);
    await keys.settled();
    expect(await refusal(keys.keyFor('rsa-1'))).toMatchObject({ code: 'GW_INVALID_TOKEN' });
    expect(keys.fetches).toBe(4);
  });

  it('answers 503 while no key was ever fetched, without hammering the endpoint', async () => {
    const keys = source(`http://127.0.0.1:${await closedPort()}/jwks.json`);
    expect(await refusal(keys.keyFor('rsa-1'))).toMatchObject({ code: 'GW_AUTH_UNAVAILABLE', status: 503 });
    expect(await refusal(keys.keyFor('rsa-1'))).toMatchObject({ code: 'GW_AUTH_UNAVAILABLE' });
    expect(keys.fetches).toBe(1);
  });

  it('picks the only key for a token without kid, and refuses one when there are several', async () => {
    published = [jwk(rsa.publicKey, 'rsa-1', 'RS256')];
    const single = source();
    expect((await single.keyFor(undefined)).asymmetricKeyType).toBe('rsa');
    published = [jwk(rsa.publicKey, 'rsa-1', 'RS256'), jwk(ec.publicKey, 'ec-1', 'ES256')];
    const several = source();
    expect(await refusal(several.keyFor(undefined))).toMatchObject({
      code: 'GW_INVALID_TOKEN',
      detail: 'The token names no key (kid) and the JWKS endpoint publishes several keys',
    });
  });
});
