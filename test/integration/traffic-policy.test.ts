import request from 'supertest';
import { connect } from 'node:net';
import { configFrom, startGateway } from '../helpers/gateway';
import { echoGateways } from '../helpers/echo-gateways';
import { startUpstream } from '../helpers/upstream';
import { labClaims, mint, SECRET } from '../helpers/tokens';

/**
 * Traffic policy end to end on real sockets: rate limits (memory store), CORS, security headers,
 * transforms, IP filtering and request validation.
 */
const echo = echoGateways();
const gateway = echo.gateway;

const echoed = (res: request.Response) => JSON.parse(res.text) as { url: string; headers: Record<string, string> };

describe('rate limiting (memory store)', () => {
  it.each([
    ['ip', {}, { 'x-forwarded-for': '10.9.9.9' }],
    [
      'user',
      { authorization: `Bearer ${mint(labClaims({ sub: 'user-7', iss: 'tracseq-auth' }), SECRET, 'HS256')}` },
      { authorization: `Bearer ${mint(labClaims({ sub: 'user-8', iss: 'tracseq-auth' }), SECRET, 'HS256')}` },
    ],
    ['header:X-Api-Key', { 'x-api-key': 'k1' }, { 'x-api-key': 'k2' }],
    ['global', {}, { 'x-forwarded-for': '10.9.9.9' }],
  ])('key %s: exactly the limit is allowed, then 429 GW_RATE_LIMITED with Retry-After', async (key, first, second) => {
    const gw = await gateway(`auth: { jwt: { secret: "${SECRET}", issuer: tracseq-auth } }
routes:
  - { name: api, path: /api, service: echo, rateLimit: { enabled: true, requestsPerMinute: 3, key: "${key}" } }
`);
    for (let i = 0; i < 3; i++) await request(gw.url).get('/api/x').set(first).expect(200);
    const refused = await request(gw.url).get('/api/x').set(first).expect(429);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.body.code).toBe('GW_RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another key has its own counter, except with the global key, which all clients share.
    await request(gw.url)
      .get('/api/x')
      .set(second)
      .expect(key === 'global' ? 429 : 200);
  });

  it('sends draft-8 RateLimit and RateLimit-Policy headers with the remaining count', async () => {
    const gw = await gateway(`routes:
  - { name: api, path: /api, service: echo, rateLimit: { enabled: true, requestsPerMinute: 5, burst: 3 } }
`);
    const res = await request(gw.url).get('/api/x').expect(200);
    expect(res.headers['ratelimit-policy']).toBe('"minute";q=5;w=60, "burst";q=3;w=1');
    expect(res.headers.ratelimit).toMatch(/^"minute";r=4;t=(60|59), "burst";r=2;t=[01]$/);
  });

  it('burst: at most `burst` requests in one second, while the minute limit is far away', async () => {
    const gw = await gateway(`routes:
  - { name: api, path: /api, service: echo, rateLimit: { enabled: true, requestsPerMinute: 100, burst: 2 } }
`);
    // Wait for the start of a fresh second so the three requests share one window.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(gw.url).get('/api/x')).status);
    expect(statuses).toEqual([200, 200, 429]);
    await new Promise((r) => setTimeout(r, 1100));
    await request(gw.url).get('/api/x').expect(200);
  });

  it('global: one limit shared by all routes and clients', async () => {
    const gw = await gateway(`rateLimiting: { global: { enabled: true, requestsPerMinute: 2 } }
routes:
  - { name: a, path: /a, service: echo }
  - { name: b, path: /b, service: echo }
`);
    await request(gw.url).get('/a').expect(200);
    await request(gw.url).get('/b').set('x-forwarded-for', '10.1.1.1').expect(200);
    const refused = await request(gw.url).get('/a').expect(429);
    expect(refused.headers['ratelimit-policy']).toBe('"global-minute";q=2;w=60');
  });

  it('RATE_LIMITING__ENABLED=false turns limits off', async () => {
    const gw = await gateway(
      `routes:
  - { name: api, path: /api, service: echo, rateLimit: { enabled: true, requestsPerMinute: 1 } }
`,
      { RATE_LIMITING__ENABLED: 'false' },
    );
    await request(gw.url).get('/api').expect(200);
    const res = await request(gw.url).get('/api').expect(200);
    expect(res.headers.ratelimit).toBeUndefined();
  });
});

describe('CORS', () => {
  const yaml = `auth: { jwt: { secret: "${SECRET}", issuer: tracseq-auth } }
cors: { enabled: true, origins: ["https://lab.example.org"], credentials: true, exposeHeaders: [X-Request-Id, RateLimit] }
routes:
  - { name: api, path: /api, service: echo, auth: { required: true }, rateLimit: { enabled: true, requestsPerMinute: 1 } }
`;
  it('answers a preflight from an allowed origin before auth and rate limiting', async () => {
    const gw = await gateway(yaml);
    for (let i = 0; i < 3; i++) {
      const res = await request(gw.url).options('/api/x').set('origin', 'https://lab.example.org').set('access-control-request-method', 'POST').expect(204);
      expect(res.headers['access-control-allow-origin']).toBe('https://lab.example.org');
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(echo.upstream().received.some((r) => r.method === 'OPTIONS')).toBe(false);
  });

  it('gives a disallowed origin no Access-Control-Allow-Origin', async () => {
    const gw = await gateway(yaml);
    const res = await request(gw.url).options('/api/x').set('origin', 'https://evil.example').set('access-control-request-method', 'GET');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('exposes the configured headers on actual responses, also on gateway errors', async () => {
    const gw = await gateway(yaml);
    const res = await request(gw.url).get('/api/x').set('origin', 'https://lab.example.org').expect(401);
    expect(res.headers['access-control-allow-origin']).toBe('https://lab.example.org');
    expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id,RateLimit');
    // The route's security headers are on its error answers too, with the request id.
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
  });
});

describe('security headers', () => {
  it('are on proxied answers, without the upstream Server and X-Powered-By', async () => {
    const loud = await startUpstream((_req, res) => {
      res.writeHead(200, { server: 'Apache/2.2.1', 'x-powered-by': 'PHP/5.2', 'content-type': 'text/plain' });
      res.end('hi');
    });
    try {
      const gw = await startGateway(
        configFrom(`version: 1\nservices:\n  loud: { instances: ["${loud.url}"], healthCheck: { enabled: false } }\nroutes:\n  - { name: loud, path: /loud, service: loud }\n`),
      );
      echo.track(gw);
      const res = await request(gw.url).get('/loud').expect(200);
      expect(res.headers.server).toBeUndefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await loud.close();
    }
  });

  it.each([
    ['/nowhere', 404],
    ['/health', 200],
  ])('are on the gateway own answers (%s)', async (path, status) => {
    const gw = await gateway(`routes:\n  - { name: api, path: /api, service: echo }\n`);
    const res = await request(gw.url).get(path).expect(status);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it.each([
    ['POST', '/ro', 405],
    ['GET', '/api/%2e%2e/x', 400],
  ])('are on the gateway own error answers (%s %s)', async (method, path, status) => {
    const gw = await gateway(`routes:\n  - { name: api, path: /api, service: echo }\n  - { name: ro, path: /ro, service: echo, methods: [GET] }\n`);
    const res = await request(gw.url)[method === 'POST' ? 'post' : 'get'](path).expect(status);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
  });
});

describe('transforms', () => {
  it('resolves every placeholder and sets, adds and removes request headers seen upstream', async () => {
    const token = mint(labClaims({ sub: 'user-42', iss: 'tracseq-auth' }), SECRET, 'HS256');
    const gw = await gateway(
      `auth: { jwt: { secret: "${SECRET}", issuer: tracseq-auth } }
routes:
  - name: api
    path: /api
    service: echo
    auth: { required: true }
    transform:
      request:
        headers:
          set: { X-Req: "\${request.id}", X-Ip: "ip=\${client.ip}", X-Route: "\${route.name}", X-Svc: "\${service.name}", X-Sub: "\${user.sub}", X-Env: "\${env.LAB_SITE}", X-Replace: new }
          add: { X-Multi: two }
          remove: [X-Secret]
`,
      { LAB_SITE: 'uppsala' },
    );
    const res = await request(gw.url)
      .get('/api/x')
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', 'req-123')
      .set('x-secret', 's')
      .set('x-replace', 'old')
      .set('x-multi', 'one')
      .expect(200);
    const h = echoed(res).headers;
    expect(h).toMatchObject({ 'x-req': 'req-123', 'x-ip': 'ip=127.0.0.1', 'x-route': 'api', 'x-svc': 'echo', 'x-sub': 'user-42', 'x-env': 'uppsala', 'x-replace': 'new', 'x-multi': 'one, two' });
    expect(h['x-secret']).toBeUndefined();
  });

  it('sets and removes query parameters, keeping the raw encoding of the others', async () => {
    const gw = await gateway(`routes:
  - name: api
    path: /api
    service: echo
    transform: { request: { query: { set: { source: "gw \${route.name}" }, remove: [debug] } } }
`);
    const res = await request(gw.url).get('/api/x?q=a%2Fb+c&debug=1&source=client&z=%7E').expect(200);
    expect(echoed(res).url).toBe('/api/x?q=a%2Fb+c&z=%7E&source=gw%20api');
  });

  it('edits response headers and still streams server-sent events', async () => {
    const sse = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', server: 'x', 'x-internal': '1' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 300);
    });
    try {
      const gw = await startGateway(
        configFrom(
          `version: 1\nservices:\n  sse: { instances: ["${sse.url}"], healthCheck: { enabled: false } }\nroutes:\n  - name: events\n    path: /events\n    service: sse\n    transform: { response: { headers: { set: { X-Route: "\${route.name}" }, add: { X-Seen: gw }, remove: [X-Internal] } } }\n`,
        ),
      );
      echo.track(gw);
      const { headers, firstChunkAt, endAt } = await new Promise<{ headers: string; firstChunkAt: number; endAt: number }>((resolve, reject) => {
        const socket = connect(gw.port, '127.0.0.1');
        let text = '';
        let firstChunkAt = 0;
        socket.on('data', (d) => {
          text += d.toString();
          if (!firstChunkAt && text.includes('data: one')) firstChunkAt = Date.now();
        });
        socket.on('end', () => resolve({ headers: text, firstChunkAt, endAt: Date.now() }));
        socket.on('error', reject);
        socket.write('GET /events HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      });
      expect(headers).toMatch(/x-route: events/i);
      expect(headers).toMatch(/x-seen: gw/i);
      expect(headers).not.toMatch(/x-internal/i);
      expect(endAt - firstChunkAt).toBeGreaterThanOrEqual(200);
    } finally {
      await sse.close();
    }
  });
});

describe('IP filter', () => {
  it('refuses a denied address even when an untrusted peer claims another in X-Forwarded-For', async () => {
    const gw = await gateway(`gateway: { trustProxy: [10.0.0.0/8] }
routes:
  - { name: api, path: /api, service: echo, ipFilter: { deny: [127.0.0.0/8] } }
`);
    const res = await request(gw.url).get('/api').set('x-forwarded-for', '203.0.113.9').expect(403);
    expect(res.body.code).toBe('GW_IP_DENIED');
  });

  it('believes a trusted proxy chain: the right-most untrusted entry is the client', async () => {
    const gw = await gateway(`gateway: { trustProxy: [loopback, 10.0.0.0/8] }
ipFilter: { allow: [203.0.113.0/24] }
routes:
  - { name: api, path: /api, service: echo }
`);
    await request(gw.url).get('/api').set('x-forwarded-for', '198.51.100.1, 203.0.113.9, 10.0.0.2').expect(200);
    await request(gw.url).get('/api').set('x-forwarded-for', '203.0.113.9, 198.51.100.1, 10.0.0.2').expect(403);
  });

  it('matches IPv6 CIDRs, deny winning over allow', async () => {
    const gw = await gateway(`ipFilter: { allow: ["2001:db8::/32"], deny: ["2001:db8:bad::/48"] }
routes:
  - { name: api, path: /api, service: echo }
`);
    await request(gw.url).get('/api').set('x-forwarded-for', '2001:db8:1::5').expect(200);
    await request(gw.url).get('/api').set('x-forwarded-for', '2001:db8:bad::5').expect(403);
    await request(gw.url).get('/api').set('x-forwarded-for', '2001:dead::1').expect(403);
  });

  it('restricts the management endpoints to managementAllow', async () => {
    const gw = await gateway(`ipFilter: { managementAllow: [10.0.0.0/8] }
routes:
  - { name: api, path: /api, service: echo }
`);
    expect((await request(gw.url).get('/services').expect(403)).body.code).toBe('GW_IP_DENIED');
    await request(gw.url).get('/metrics').expect(403);
    await request(gw.url).get('/health').expect(200);
    await request(gw.url).get('/services').set('x-forwarded-for', '10.2.3.4').expect(200);
  });
});

describe('request validation', () => {
  const yaml = `routes:
  - name: samples
    path: /samples
    service: echo
    validate: { "POST /samples": schemas/requests/sample-create.json }
  - name: rag
    path: /rag
    service: echo
    contentTypes: [application/pdf, text/plain]
`;
  it('proxies a valid body byte for byte', async () => {
    let seen = '';
    const capture = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = Buffer.concat(chunks).toString();
        res.end('ok');
      });
    });
    try {
      const gw = await startGateway(configFrom(`version: 1\nservices:\n  echo: { instances: ["${capture.url}"], healthCheck: { enabled: false } }\n${yaml}`));
      echo.track(gw);
      const body = '{ "name":"S-1",  "sampleType":"blood", "barcode":"BC-0001" }\n';
      await request(gw.url).post('/samples/samples').set('content-type', 'application/json').send(body).expect(200);
      expect(seen).toBe(body);
    } finally {
      await capture.close();
    }
  });

  it('refuses an invalid body with 400 and each error as a JSON pointer', async () => {
    const gw = await gateway(yaml);
    const res = await request(gw.url).post('/samples/samples').set('content-type', 'application/json').send({ name: '', sampleType: 'lava' }).expect(400);
    expect(res.body.code).toBe('GW_VALIDATION_FAILED');
    const pointers = (res.body.errors as { pointer: string }[]).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/barcode', '/name', '/sampleType']);
  });

  it('refuses malformed JSON with 400, and a content type the route does not take with 415', async () => {
    const gw = await gateway(yaml);
    expect((await request(gw.url).post('/samples/samples').set('content-type', 'application/json').send('{"name":').expect(400)).body.code).toBe('GW_INVALID_JSON');
    expect((await request(gw.url).post('/rag/upload').set('content-type', 'application/zip').send('PK').expect(415)).body.code).toBe('GW_UNSUPPORTED_MEDIA_TYPE');
  });

  it('streams uploads on paths without a schema', async () => {
    let firstChunkBeforeEnd = false;
    const slow = await startUpstream((req, res) => {
      let chunks = 0;
      req.on('data', () => {
        chunks++;
      });
      setTimeout(() => {
        firstChunkBeforeEnd = chunks > 0 && !req.complete;
      }, 150);
      req.on('end', () => res.end('stored'));
    });
    try {
      const gw = await startGateway(configFrom(`version: 1\nservices:\n  echo: { instances: ["${slow.url}"], healthCheck: { enabled: false } }\n${yaml}`));
      echo.track(gw);
      const socket = connect(gw.port, '127.0.0.1');
      socket.write('POST /rag/upload HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n');
      await new Promise((r) => setTimeout(r, 300));
      socket.end('0\r\n\r\n');
      await new Promise((r) => socket.on('close', r));
      expect(firstChunkBeforeEnd).toBe(true);
    } finally {
      await slow.close();
    }
  });
});
