import { createServer, Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import request from 'supertest';
import WebSocket, { WebSocketServer } from 'ws';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/http';
import { ec, hmacSignedWith, jwk, labClaims, mint, nowSeconds, pem, rsa, SECRET, stranger, unsigned } from '../helpers/tokens';

/**
 * The auth stage end to end: real gateways on real sockets, tokens minted here for every algorithm
 * family, a JWKS endpoint and an Auth Service served by local test servers, and an upstream that
 * echoes what it received (so every test sees exactly what a TracSeq service would see).
 */
let upstream: TestUpstream;
let jwks: TestUpstream;
let authService: TestUpstream;
let wsUpstream: Server;
const gw: Record<string, RunningGateway> = {};
/** Tokens the Auth Service was asked about, in order. */
const validations: string[] = [];

const ISO = (seconds: number) => new Date(seconds * 1000).toISOString();
const yamlString = (text: string) => JSON.stringify(text);

function hmacGateway(wsPort: number): string {
  return `
version: 1
defaults:
  auth: { required: true }
auth:
  jwt:
    secret: ${yamlString(SECRET)}
    algorithms: [HS256, HS384, HS512]
    issuer: tracseq-auth
    audience: tracseq-api
    clockTolerance: 5s
    maxAge: 1h
services:
  up: { instances: ["${upstream.url}"] }
  live: { instances: ["http://127.0.0.1:${wsPort}"] }
routes:
  - { name: api, path: /api, service: up }
  - { name: open, path: /open, service: up, auth: { required: false } }
  - { name: lab, path: /lab, service: up, auth: { roles: [lab_manager] } }
  - { name: restricted, path: /restricted, service: up, auth: { roles: [lab_manager, lab_admin] } }
  - { name: any, path: /any, service: up, auth: { anyRole: [lab_admin, researcher] } }
  - { name: none-of, path: /none-of, service: up, auth: { anyRole: [lab_admin, auditor] } }
  - { name: bare, path: /bare, service: up, auth: { stripAuthorization: true } }
  - { name: live, path: /live, service: live, websocket: true }
`;
}

function keyGateway(jwt: string): string {
  return `
version: 1
defaults:
  auth: { required: true }
auth:
  jwt:
${jwt}
services:
  up: { instances: ["${upstream.url}"] }
routes:
  - { name: api, path: /api, service: up }
`;
}

function validatingGateway(authUrl: string, jwt = ''): string {
  return `
version: 1
defaults:
  auth: { required: true }
auth:${jwt}
  validateWith: { enabled: true, service: auth, path: /api/v1/validate, cacheTtl: 60s, rejectedCacheTtl: 10s, timeout: 500ms }
services:
  auth: { instances: ["${authUrl}"] }
  up: { instances: ["${upstream.url}"] }
routes:
  - { name: auth, path: /auth, service: auth, auth: { required: false } }
  - { name: api, path: /api, service: up }
`;
}

beforeAll(async () => {
  upstream = await startUpstream();
  jwks = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk(rsa.publicKey, 'rsa-1', 'RS256'), jwk(ec.publicKey, 'ec-1', 'ES256')] }));
  });
  authService = await startUpstream((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    req.resume();
    req.on('end', () => {
      if (req.url !== '/api/v1/validate' || req.method !== 'POST') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url, headers: req.headers }));
        return;
      }
      validations.push(token);
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (token.startsWith('slow')) return; // never answers
      if (token.startsWith('late')) return void setTimeout(() => answer(200, { valid: true, claims: { sub: 'late' } }), 100);
      if (token.startsWith('revoked')) return answer(401, { detail: 'token revoked' });
      if (token.startsWith('broken')) return answer(500, { error: 'database down' });
      if (token.startsWith('eyJ')) {
        const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { jti?: string };
        if (claims.jti === 'revoked') return answer(401, { detail: 'token revoked' });
        return answer(200, { valid: true, claims: { roles: ['from-service'] } });
      }
      answer(200, { valid: true, claims: { sub: `svc-${token}`, roles: ['researcher'], email: 'svc@lab.example.org' } });
    });
  });
  wsUpstream = createServer();
  const wss = new WebSocketServer({ server: wsUpstream });
  wss.on('connection', (ws, req) => ws.send(JSON.stringify({ headers: req.headers })));
  await new Promise<void>((resolve) => wsUpstream.listen(0, '127.0.0.1', resolve));
  const wsPort = (wsUpstream.address() as AddressInfo).port;

  gw.hmac = await startGateway(configFrom(hmacGateway(wsPort)));
  gw.off = await startGateway(configFrom(hmacGateway(wsPort), { AUTHENTICATION__ENABLED: 'false' }));
  gw.rsa = await startGateway(configFrom(keyGateway(`    publicKey: ${yamlString(pem(rsa.publicKey))}\n    algorithms: [RS256]`)));
  gw.ec = await startGateway(configFrom(keyGateway(`    publicKey: ${yamlString(pem(ec.publicKey))}\n    algorithms: [ES256]`)));
  gw.jwks = await startGateway(configFrom(keyGateway(`    jwksUri: "${jwks.url}/.well-known/jwks.json"\n    algorithms: [RS256, ES256]`)));
  gw.validating = await startGateway(configFrom(validatingGateway(authService.url)));
  gw.authDown = await startGateway(configFrom(validatingGateway(`http://127.0.0.1:${await closedPort()}`)));
  gw.both = await startGateway(configFrom(validatingGateway(authService.url, `\n  jwt: { secret: ${yamlString(SECRET)}, algorithms: [HS256] }`)));
});

afterAll(async () => {
  await Promise.all(Object.values(gw).map((g) => g.stop()));
  await Promise.all([upstream.close(), jwks.close(), authService.close()]);
  await new Promise((r) => wsUpstream.close(r));
});

const bearer = (token: string) => `Bearer ${token}`;
const hmacClaims = (overrides: Record<string, unknown> = {}) => labClaims({ iss: 'tracseq-auth', aud: 'tracseq-api', ...overrides });
const challenge = (detail: string) => `Bearer realm="tracseq", error="invalid_token", error_description="${detail.replace(/["\\]/g, "'")}"`;

describe('tokens that are accepted', () => {
  it.each([
    ['HS256 with the shared secret', 'hmac', () => mint(hmacClaims(), SECRET, 'HS256')],
    ['HS384 with the shared secret', 'hmac', () => mint(hmacClaims(), SECRET, 'HS384')],
    ['HS512 with the shared secret', 'hmac', () => mint(hmacClaims(), SECRET, 'HS512')],
    ['RS256 with a PEM public key', 'rsa', () => mint(labClaims(), rsa.privateKey, 'RS256')],
    ['ES256 with a PEM public key', 'ec', () => mint(labClaims(), ec.privateKey, 'ES256')],
    ['RS256 with a key from the JWKS endpoint (kid rsa-1)', 'jwks', () => mint(labClaims(), rsa.privateKey, 'RS256', { kid: 'rsa-1' })],
    ['ES256 with a key from the JWKS endpoint (kid ec-1)', 'jwks', () => mint(labClaims(), ec.privateKey, 'ES256', { kid: 'ec-1' })],
  ])('%s', async (_name, gateway, token) => {
    const res = await request(gw[gateway].url).get('/api/samples').set('authorization', bearer(token()));
    expect(res.status).toBe(200);
    expect(res.body.url).toBe('/api/samples');
    expect(res.body.headers).toMatchObject({
      'x-user-id': 'user-42',
      'x-user-roles': 'lab_manager,researcher',
      'x-user-email': 'ada@lab.example.org',
    });
    // Forwarded unless the route strips it: services may want to read the token themselves.
    expect(res.body.headers.authorization).toMatch(/^Bearer /);
  });
});

describe('requests that are refused', () => {
  const now = nowSeconds();
  it.each([
    {
      name: 'no Authorization header',
      gateway: 'hmac',
      header: undefined,
      code: 'GW_UNAUTHORIZED',
      detail: 'This route requires a bearer token: send Authorization: Bearer <token>',
      wwwAuthenticate: 'Bearer realm="tracseq"',
    },
    {
      name: 'another scheme (Basic)',
      gateway: 'hmac',
      header: 'Basic dXNlcjpwYXNz',
      code: 'GW_UNAUTHORIZED',
      detail: 'The Authorization header uses the "Basic" scheme; this gateway accepts "Bearer <token>" only',
      wwwAuthenticate: 'Bearer realm="tracseq", error="invalid_request", error_description="The Authorization header uses the \'Basic\' scheme; this gateway accepts \'Bearer <token>\' only"',
    },
    {
      name: 'Bearer without a token',
      gateway: 'hmac',
      header: 'Bearer',
      code: 'GW_UNAUTHORIZED',
      detail: 'The Authorization header must be "Bearer <token>" with one token of base64url characters',
      wwwAuthenticate: 'Bearer realm="tracseq", error="invalid_request", error_description="The Authorization header must be \'Bearer <token>\' with one token of base64url characters"',
    },
    {
      name: 'Bearer with two tokens',
      gateway: 'hmac',
      header: 'Bearer abc def',
      code: 'GW_UNAUTHORIZED',
      detail: 'The Authorization header must be "Bearer <token>" with one token of base64url characters',
      wwwAuthenticate: 'Bearer realm="tracseq", error="invalid_request", error_description="The Authorization header must be \'Bearer <token>\' with one token of base64url characters"',
    },
    {
      name: 'a token that is not a JWT',
      gateway: 'hmac',
      header: 'Bearer not-a-jwt',
      code: 'GW_INVALID_TOKEN',
      detail: 'The token is not a JWT (header.claims.signature, each base64url-encoded JSON)',
    },
    {
      name: 'a bad signature (another secret)',
      gateway: 'hmac',
      header: bearer(mint(hmacClaims(), 'some-other-secret-0123456789abcdef', 'HS256')),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token signature does not verify with the configured key',
    },
    {
      name: 'alg none (unsigned)',
      gateway: 'hmac',
      header: bearer(unsigned(hmacClaims())),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token is unsigned (alg "none"); unsigned tokens are never accepted',
    },
    {
      name: 'HS256 signed with the RSA public key (algorithm confusion)',
      gateway: 'rsa',
      header: bearer(hmacSignedWith(pem(rsa.publicKey), labClaims())),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token\'s algorithm "HS256" is not accepted (accepted: RS256)',
    },
    {
      name: 'a wrong algorithm (RS256 where HS* is configured)',
      gateway: 'hmac',
      header: bearer(mint(hmacClaims(), rsa.privateKey, 'RS256')),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token\'s algorithm "RS256" is not accepted (accepted: HS256, HS384, HS512)',
    },
    {
      name: 'an ES256 token on an RSA gateway',
      gateway: 'rsa',
      header: bearer(mint(labClaims(), ec.privateKey, 'ES256')),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token\'s algorithm "ES256" is not accepted (accepted: RS256)',
    },
    {
      name: 'an RS256 token signed by another key',
      gateway: 'rsa',
      header: bearer(mint(labClaims(), stranger.privateKey, 'RS256')),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token signature does not verify with the configured key',
    },
    {
      name: 'an expired token (beyond the 5 s clock tolerance)',
      gateway: 'hmac',
      header: bearer(mint(hmacClaims({ iat: now - 120, exp: now - 60 }), SECRET, 'HS256')),
      code: 'GW_INVALID_TOKEN',
      detail: `The token expired at ${ISO(now - 60)}`,
    },
    {
      name: 'a token not yet valid (nbf beyond the clock tolerance)',
      gateway: 'hmac',
      header: bearer(mint(hmacClaims({ nbf: now + 60 }), SECRET, 'HS256')),
      code: 'GW_INVALID_TOKEN',
      detail: `The token is not valid before ${ISO(now + 60)}`,
    },
    {
      name: 'a wrong issuer',
      gateway: 'hmac',
      header: bearer(mint(hmacClaims({ iss: 'someone-else' }), SECRET, 'HS256')),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token\'s issuer "someone-else" is not the accepted issuer "tracseq-auth"',
    },
    {
      name: 'a wrong audience',
      gateway: 'hmac',
      header: bearer(mint(hmacClaims({ aud: 'billing-api' }), SECRET, 'HS256')),
      code: 'GW_INVALID_TOKEN',
      detail: 'The token\'s audience "billing-api" does not include "tracseq-api"',
    },
    {
      name: 'a token older than maxAge (1h), though not expired',
      gateway: 'hmac',
      header: bearer(mint(hmacClaims({ iat: now - 7200, exp: now + 600 }), SECRET, 'HS256')),
      code: 'GW_INVALID_TOKEN',
      detail: `The token is older than auth.jwt.maxAge allows (3600000 ms; issued ${ISO(now - 7200)})`,
    },
    {
      name: 'a JWKS token naming a key the endpoint does not publish',
      gateway: 'jwks',
      header: bearer(mint(labClaims(), rsa.privateKey, 'RS256', { kid: 'retired-key' })),
      code: 'GW_INVALID_TOKEN',
      detail: 'No key with kid "retired-key" is published by the JWKS endpoint',
    },
  ])('$name → 401 $code', async ({ gateway, header, code, detail, wwwAuthenticate }) => {
    const req = request(gw[gateway].url).get('/api/samples');
    const res = header === undefined ? await req : await req.set('authorization', header);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 401, code, detail });
    expect(res.headers['www-authenticate']).toBe(wwwAuthenticate ?? challenge(detail));
    expect(upstream.received.some((r) => r.headers['x-request-id'] === res.headers['x-request-id'])).toBe(false);
  });
});

describe('roles', () => {
  const insufficient = (detail: string) => `Bearer realm="tracseq", error="insufficient_scope", error_description="${detail}"`;
  it.each([
    { name: 'all required roles present', path: '/lab', roles: ['lab_manager', 'researcher'], status: 200, detail: undefined },
    {
      name: 'a required role missing',
      path: '/restricted',
      roles: ['lab_manager', 'researcher'],
      status: 403,
      detail: 'This route requires the role lab_admin, which the token does not carry',
    },
    { name: 'anyRole: one of them present', path: '/any', roles: ['researcher'], status: 200, detail: undefined },
    {
      name: 'anyRole: none of them present',
      path: '/none-of',
      roles: ['lab_manager', 'researcher'],
      status: 403,
      detail: 'This route requires one of the roles lab_admin, auditor; the token carries none of them',
    },
    { name: 'roles as a space-separated string claim', path: '/lab', roles: 'lab_manager researcher', status: 200, detail: undefined },
    {
      name: 'no roles claim at all',
      path: '/lab',
      roles: undefined,
      status: 403,
      detail: 'This route requires the role lab_manager, which the token does not carry',
    },
  ])('$name → $status', async ({ path, roles, status, detail }) => {
    const token = mint(hmacClaims({ roles }), SECRET, 'HS256');
    const res = await request(gw.hmac.url).get(path).set('authorization', bearer(token));
    expect(res.status).toBe(status);
    if (detail === undefined) {
      expect(res.body.headers['x-user-roles']).toBe([roles].flat().join(' ').split(' ').join(','));
    } else {
      expect(res.body).toMatchObject({ code: 'GW_FORBIDDEN', detail });
      expect(res.headers['www-authenticate']).toBe(insufficient(detail));
    }
  });
});

describe('routes that do not require a token', () => {
  it.each([
    ['no token: passes, anonymous', undefined, undefined],
    ['a valid token: passes with the user context', bearer(mint(hmacClaims(), SECRET, 'HS256')), 'user-42'],
    ['an invalid token: passes, anonymous', bearer(mint(hmacClaims(), 'wrong-secret-0123456789', 'HS256')), undefined],
    ['a malformed header: passes, anonymous', 'Basic abc', undefined],
  ])('%s', async (_name, header, user) => {
    const req = request(gw.hmac.url).get('/open/health');
    const res = header === undefined ? await req : await req.set('authorization', header);
    expect(res.status).toBe(200);
    expect(res.body.headers['x-user-id']).toBe(user);
  });
});

describe('identity headers cannot be spoofed', () => {
  const spoofed = { 'x-user-id': 'admin', 'x-user-roles': 'lab_admin', 'x-user-email': 'root@lab.example.org' };
  const valid = () => bearer(mint(hmacClaims(), SECRET, 'HS256'));
  it.each([
    ['a required route, with a valid token', 'hmac', '/api/x', valid, 'user-42'],
    ['an optional route, without a token', 'hmac', '/open/x', () => undefined, undefined],
    ['an optional route, with an invalid token', 'hmac', '/open/x', () => bearer('garbage.token.here'), undefined],
    ['an optional route, with a valid token', 'hmac', '/open/x', valid, 'user-42'],
    ['a gateway with auth disabled, without a token', 'off', '/api/x', () => undefined, undefined],
    ['a gateway with auth disabled, with a valid token', 'off', '/api/x', valid, undefined],
    ['a gateway validating with the Auth Service, on its optional route', 'validating', '/auth/login', () => undefined, undefined],
  ])('on %s', async (_name, gateway, path, header, user) => {
    let req = request(gw[gateway].url).get(path).set(spoofed).set('X-USER-ID', 'admin-again');
    const auth = header();
    if (auth !== undefined) req = req.set('authorization', auth);
    const res = await req;
    expect(res.status).toBe(200);
    // The upstreams echo the headers they received.
    expect(res.body.headers['x-user-id']).toBe(user);
    expect(JSON.stringify(res.body.headers)).not.toMatch(/admin|root@lab|lab_admin/);
  });
});

describe('route policies', () => {
  it('stripAuthorization removes the token but keeps the identity headers', async () => {
    const res = await request(gw.hmac.url)
      .get('/bare/x')
      .set('authorization', bearer(mint(hmacClaims(), SECRET, 'HS256')));
    expect(res.status).toBe(200);
    expect(res.body.headers.authorization).toBeUndefined();
    expect(res.body.headers['x-user-id']).toBe('user-42');
  });

  it('with CORS off, an OPTIONS request that looks like a preflight needs a token and never reaches the service', async () => {
    const before = upstream.received.filter((r) => r.method === 'OPTIONS').length;
    const preflight = await request(gw.hmac.url).options('/api/admin/delete-all').set('origin', 'https://lab.example.org').set('access-control-request-method', 'DELETE');
    expect(preflight.status).toBe(401);
    expect(preflight.headers['content-type']).toContain('application/problem+json');
    expect(preflight.headers['x-request-id']).toBeTruthy();
    const plain = await request(gw.hmac.url).options('/api/samples');
    expect(plain.status).toBe(401);
    expect(upstream.received.filter((r) => r.method === 'OPTIONS').length).toBe(before);
  });

  it("the access log names the verified user, never a client's claim", async () => {
    await request(gw.hmac.url)
      .get('/api/logged')
      .set('x-request-id', 'auth-log-1')
      .set('authorization', bearer(mint(hmacClaims(), SECRET, 'HS256')));
    await request(gw.hmac.url).get('/open/logged').set('x-request-id', 'auth-log-2').set('x-user-id', 'admin');
    await waitFor(() => gw.hmac.logs().filter((l) => String(l.requestId).startsWith('auth-log-')).length === 2, 2000, 'access lines');
    const lines = gw.hmac.logs().filter((l) => l.message === 'request' && String(l.requestId).startsWith('auth-log-'));
    expect(lines.map((l) => [l.requestId, l.user]).sort()).toEqual([
      ['auth-log-1', 'user-42'],
      ['auth-log-2', null],
    ]);
  });

  it('AUTHENTICATION__ENABLED=false lets requests through and says so once, at warn', async () => {
    const res = await request(gw.off.url).get('/restricted/x');
    expect(res.status).toBe(200);
    const warnings = gw.off.logs().filter((l) => l.level === 'warn' && String(l.message).startsWith('authentication is disabled'));
    expect(warnings).toHaveLength(1);
    expect(gw.hmac.logs().some((l) => String(l.message).startsWith('authentication is disabled'))).toBe(false);
  });
});

describe('WebSocket upgrades are authenticated too', () => {
  function upgrade(headers: Record<string, string>): Promise<{ status: number; wwwAuthenticate?: string; upstreamHeaders?: Record<string, string> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.hmac.port}/live/stream`, { headers });
      ws.once('message', (data) => {
        resolve({ status: 101, upstreamHeaders: (JSON.parse(data.toString()) as { headers: Record<string, string> }).headers });
        ws.close();
      });
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, wwwAuthenticate: res.headers['www-authenticate'] }));
      ws.once('error', reject);
    });
  }

  it('refuses an upgrade without a token with 401 and the challenge', async () => {
    const outcome = await upgrade({ 'x-user-id': 'admin' });
    expect(outcome).toEqual({ status: 401, wwwAuthenticate: 'Bearer realm="tracseq"' });
  });

  it('proxies an upgrade with a token, with the verified identity in place of a spoofed one', async () => {
    const outcome = await upgrade({ authorization: bearer(mint(hmacClaims(), SECRET, 'HS256')), 'x-user-id': 'admin' });
    expect(outcome.status).toBe(101);
    expect(outcome.upstreamHeaders).toMatchObject({ 'x-user-id': 'user-42', 'x-user-roles': 'lab_manager,researcher' });
  });
});

describe('validation by the Auth Service (validateWith)', () => {
  const callsFor = (token: string) => validations.filter((t) => t === token).length;

  it('asks once, then answers from the cache within cacheTtl; the service claims reach the upstream', async () => {
    const token = 'good-token-1';
    for (let i = 0; i < 3; i++) {
      const res = await request(gw.validating.url).get('/api/x').set('authorization', bearer(token));
      expect(res.status).toBe(200);
      expect(res.body.headers).toMatchObject({ 'x-user-id': 'svc-good-token-1', 'x-user-roles': 'researcher' });
    }
    expect(callsFor(token)).toBe(1);
  });

  it('asks once for concurrent requests with the same new token', async () => {
    const token = 'good-token-concurrent';
    const all = await Promise.all(Array.from({ length: 8 }, () => request(gw.validating.url).get('/api/x').set('authorization', bearer(token))));
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(callsFor(token)).toBe(1);
  });

  it('a client that leaves while its token is being checked is not proxied, and nothing breaks', async () => {
    const token = 'late-token-1';
    const socket = connect(gw.validating.port, '127.0.0.1', () => {
      socket.write(`GET /api/left-early HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    });
    socket.on('error', () => undefined);
    await waitFor(() => callsFor(token) === 1, 3000, 'the validation call');
    socket.destroy();
    // The service answers "valid" 100 ms later, when the client is long gone.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(upstream.received.some((r) => r.url === '/api/left-early')).toBe(false);
    const after = await request(gw.validating.url).get('/api/x').set('authorization', bearer(token));
    expect(after.status).toBe(200);
  });

  it('a refusal (401 from the service) is a 401 and is cached briefly', async () => {
    const token = 'revoked-token-1';
    for (let i = 0; i < 2; i++) {
      const res = await request(gw.validating.url).get('/api/x').set('authorization', bearer(token));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'GW_INVALID_TOKEN', detail: 'The auth service refused the token: token revoked' });
      expect(res.headers['www-authenticate']).toBe(challenge('The auth service refused the token: token revoked'));
    }
    expect(callsFor(token)).toBe(1);
  });

  it.each([
    ['answers 500', 'validating', 'broken-token-1', /The auth service could not validate the token \(it answered 500\); retry shortly/],
    ['does not answer within the timeout', 'validating', 'slow-token-1', /The auth service could not validate the token \(no answer within 500 ms\)/],
    ['is down (connection refused)', 'authDown', 'good-token-2', /^The auth service could not validate the token \(it could not be reached \(ECONNREFUSED\)\); retry shortly$/],
  ])('fails closed with 503 GW_AUTH_UNAVAILABLE when the service %s, and does not cache that', async (_name, gateway, token, detail) => {
    for (let i = 0; i < 2; i++) {
      const res = await request(gw[gateway].url).get('/api/x').set('authorization', bearer(token));
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('GW_AUTH_UNAVAILABLE');
      expect(res.body.detail).toMatch(detail);
      expect(res.headers['retry-after']).toBe('5');
    }
    if (gateway === 'validating') expect(callsFor(token)).toBe(2);
  });

  it.each([
    ['a valid token: verified locally, then confirmed; the service adds claims', {}, SECRET, 200, undefined, 1],
    ['a revoked token: its signature verifies, the service refuses it', { jti: 'revoked' }, SECRET, 401, 'The auth service refused the token: token revoked', 1],
    ['a forged token: refused locally, the service is never asked', {}, 'not-the-secret-0123456789abcdef', 401, 'The token signature does not verify with the configured key', 0],
  ])('with a local key too, %s', async (_name, extra, key, status, detail, calls) => {
    const token = mint(labClaims({ ...extra, n: Math.random() }), key, 'HS256');
    const res = await request(gw.both.url).get('/api/x').set('authorization', bearer(token));
    expect(res.status).toBe(status);
    if (status === 200) expect(res.body.headers).toMatchObject({ 'x-user-id': 'user-42', 'x-user-roles': 'from-service', 'x-user-email': 'ada@lab.example.org' });
    else expect(res.body).toMatchObject({ code: 'GW_INVALID_TOKEN', detail });
    expect(callsFor(token)).toBe(calls);
  });

  it('never serves a cached answer past the token exp', async () => {
    const exp = nowSeconds() + 2;
    const token = mint({ sub: 'short-lived', exp }, 'secret-the-gateway-does-not-know', 'HS256');
    const first = await request(gw.validating.url).get('/api/x').set('authorization', bearer(token));
    expect(first.status).toBe(200);
    expect(first.body.headers['x-user-id']).toBe('short-lived');
    expect((await request(gw.validating.url).get('/api/x').set('authorization', bearer(token))).status).toBe(200);
    expect(callsFor(token)).toBe(1);
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    const late = await request(gw.validating.url).get('/api/x').set('authorization', bearer(token));
    expect(late.status).toBe(401);
    expect(late.body.detail).toBe(`The token expired at ${ISO(exp)}`);
  });
});

describe('JWKS outages', () => {
  it('keeps verifying with the known keys while the JWKS endpoint is down', async () => {
    // Warm: the endpoint was read by earlier tests; a fresh token (not in the verified cache) needs the key again.
    const before = await request(gw.jwks.url)
      .get('/api/x')
      .set('authorization', bearer(mint(labClaims({ jti: 'pre' }), ec.privateKey, 'ES256', { kid: 'ec-1' })));
    expect(before.status).toBe(200);
    await jwks.close();
    const res = await request(gw.jwks.url)
      .get('/api/x')
      .set('authorization', bearer(mint(labClaims({ jti: 'during' }), rsa.privateKey, 'RS256', { kid: 'rsa-1' })));
    expect(res.status).toBe(200);
    expect(res.body.headers['x-user-id']).toBe('user-42');
  });
});
