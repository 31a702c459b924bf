import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { closedPort, startUpstream, TestUpstream } from '../helpers/upstream';
import { rawRequest, waitFor } from '../helpers/http';
import { startReloadable, ReloadableGateway } from '../helpers/reloadable';
import { SECRET } from '../helpers/tokens';

/** What a service's /openapi.json answers; a test switches it. */
type DocumentMode = 'ok' | 'error' | 'huge' | 'swagger2' | 'not-json';

/** A TracSeq-like service: its own API under /api/v1, its document at /openapi.json. */
function service(name: string, mode: { current: DocumentMode }) {
  const document = {
    openapi: '3.1.0',
    info: { title: `${name} service`, version: '2.0.0' },
    servers: [{ url: '/api/v1' }],
    paths: {
      '/list': {
        get: {
          operationId: 'list',
          summary: `List ${name}`,
          responses: { '200': { description: 'items', content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Item' } } } } } },
        },
      },
      '/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: { operationId: 'get', responses: { '200': { description: 'one', content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } } } },
        delete: { operationId: 'remove', responses: { '204': { description: 'gone' } } },
      },
      '/': {
        post: {
          operationId: 'create',
          security: [{ serviceKey: [] }],
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
          responses: { '201': { description: 'created' } },
        },
      },
    },
    components: {
      schemas: { Item: { type: 'object', description: `an item of ${name}`, properties: { id: { type: 'string' }, owner: { $ref: '#/components/schemas/Owner' } } }, Owner: { type: 'string' } },
      securitySchemes: { serviceKey: { type: 'apiKey', in: 'header', name: 'x-key' } },
    },
  };
  // The samples service writes full paths instead of a server URL, and one outside /api/v1, where
  // no route's rewrite reaches: it must be left out.
  const internal = {
    ...document,
    servers: [],
    paths: { ...Object.fromEntries(Object.entries(document.paths).map(([p, v]) => [`/api/v1${p}`, v])), '/internal/stats': { get: { responses: { '200': { description: 'internal' } } } } },
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/openapi.json') {
      const body =
        mode.current === 'ok'
          ? JSON.stringify(name === 'samples' ? internal : document)
          : mode.current === 'huge'
            ? JSON.stringify({ ...document, info: { ...document.info, description: 'x'.repeat(64 * 1024) } })
            : mode.current === 'swagger2'
              ? JSON.stringify({ swagger: '2.0', paths: {} })
              : mode.current === 'not-json'
                ? '<html>not a document</html>'
                : '';
      res.writeHead(mode.current === 'error' ? 500 : 200, { 'content-type': 'application/json' });
      return res.end(body);
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: name, method: req.method, url: req.url, bytes: Buffer.concat(chunks).length }));
    });
  };
}

const config = (ports: { samples: number; storage: number; auth: number; late: number }, extraRoute = '') => `
version: 1
auth: { jwt: { secret: "${SECRET}", algorithms: [HS256] } }
services:
  samples: { instances: ["http://127.0.0.1:${ports.samples}"], healthCheck: { enabled: false }, openapi: { refresh: 1h } }
  storage: { instances: ["http://127.0.0.1:${ports.storage}"], healthCheck: { enabled: false }, openapi: { path: /openapi.json, refresh: 1h, maxSize: 16kb } }
  auth: { instances: ["http://127.0.0.1:${ports.auth}"], healthCheck: { enabled: false }, openapi: { refresh: 1h } }
  late: { instances: ["http://127.0.0.1:${ports.late}"], healthCheck: { enabled: false }, circuitBreaker: { enabled: false }, openapi: { refresh: 1h } }
  plain: { instances: ["http://127.0.0.1:${ports.samples}"], healthCheck: { enabled: false } }
routes:
  - { name: samples, path: /samples, service: samples, rewrite: /api/v1, methods: [GET, POST], auth: { required: true } }
  - { name: storage, path: /storage, service: storage, rewrite: /api/v1, auth: { required: true, anyRole: [lab] } }
  - { name: auth, path: /auth, service: auth, rewrite: /api/v1, methods: [GET, POST], auth: { required: false } }
  - { name: late, path: /late, service: late, rewrite: /api/v1, auth: { required: true } }
  - { name: plain, path: /plain, service: plain }
${extraRoute}`;

type Doc = {
  paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown>; requestBody?: unknown; tags?: string[] }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  info: Record<string, unknown>;
};

describe("services' own OpenAPI documents in /docs", () => {
  const modes = { samples: { current: 'ok' as DocumentMode }, storage: { current: 'ok' as DocumentMode }, auth: { current: 'ok' as DocumentMode }, late: { current: 'ok' as DocumentMode } };
  let upstreams: TestUpstream[] = [];
  let samples: TestUpstream;
  let latePort: number;
  let ports: Parameters<typeof config>[0];
  let gw: ReloadableGateway;
  const documentFetches = (u: TestUpstream) => u.received.filter((r) => r.url === '/openapi.json').length;
  const openapi = async (): Promise<Doc> => (await request(gw.url).get('/docs/openapi.json').expect(200)).body as Doc;
  const status = (name: string) => gw.server.current.documents.status(name)!;

  beforeAll(async () => {
    samples = await startUpstream(service('samples', modes.samples));
    const storage = await startUpstream(service('storage', modes.storage));
    const auth = await startUpstream(service('auth', modes.auth));
    upstreams = [samples, storage, auth];
    latePort = await closedPort();
    ports = { samples: samples.port, storage: storage.port, auth: auth.port, late: latePort };
    gw = await startReloadable(config(ports));
    await waitFor(() => ['samples', 'storage', 'auth'].every((n) => status(n).state === 'ok') && status('late').state === 'failed', 5000, 'the first fetches');
  });

  afterAll(async () => {
    await gw?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it("shows each service's operations at the gateway's paths: prefix and rewrite applied, methods of the route only", async () => {
    const doc = await openapi();
    expect(Object.keys(doc.paths['/samples/list'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/samples/{id}'])).toEqual(['get']); // DELETE: the route allows GET and POST only
    expect(Object.keys(doc.paths['/samples/'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/storage/{id}']).sort()).toEqual(['delete', 'get']);
    expect(doc.paths['/samples/list'].get.tags).toEqual(['samples']);
    // A service path no route exposes is left out, and the route entries of documented routes are gone.
    expect(Object.keys(doc.paths).filter((p) => p.includes('internal'))).toEqual([]);
    expect(doc.paths['/samples/{path}']).toBeUndefined();
    // A service without a document keeps its route entry.
    expect(doc.paths['/plain/{path}']).toBeDefined();
  });

  it("carries the gateway's security: bearer on secured routes, none on public ones, never the service's own scheme", async () => {
    const doc = await openapi();
    expect(doc.paths['/samples/list'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/samples/'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/storage/list'].get.responses['403']).toBeDefined();
    expect(doc.paths['/auth/list'].get.security).toEqual([]);
    expect(doc.paths['/auth/list'].get.responses['401']).toBeUndefined();
    expect(doc.components.securitySchemes.serviceKey).toBeUndefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['adminToken', 'bearer']);
  });

  it('keeps components of different services apart: names prefixed with the service, references rewritten', async () => {
    const doc = await openapi();
    expect(doc.components.schemas['samples.Item']).toMatchObject({ description: 'an item of samples' });
    expect(doc.components.schemas['storage.Item']).toMatchObject({ description: 'an item of storage' });
    expect(doc.components.schemas['storage.Item']).toMatchObject({ properties: { owner: { $ref: '#/components/schemas/storage.Owner' } } });
    expect(doc.components.schemas.Item).toBeUndefined();
    expect(doc.components.schemas.Problem).toBeDefined();
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs).toEqual(expect.arrayContaining(['samples.Item', 'storage.Item', 'auth.Item']));
    for (const ref of refs) expect(doc.components.schemas[ref]).toBeDefined();
  });

  it('reaches the service at the documented path, a chunked POST body included', async () => {
    const chunks = ['{"id":', '"s-1"}'];
    const answer = await new Promise<string>((resolve, reject) => {
      const req = require('node:http').request(`${gw.url}/auth/`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res: IncomingMessage) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write(chunks[0]);
      setTimeout(() => req.end(chunks[1]), 20);
    });
    expect(JSON.parse(answer)).toEqual({ service: 'auth', method: 'POST', url: '/api/v1/', bytes: 12 });
  });

  it('says where each document comes from on /services and in the document itself', async () => {
    const services = (await request(gw.url).get('/services').expect(200)).body.services as { name: string; openapi: Record<string, unknown> | null }[];
    expect(services.find((s) => s.name === 'samples')?.openapi).toMatchObject({ state: 'ok', path: '/openapi.json', fetchedFrom: samples.url, lastError: null });
    expect(services.find((s) => s.name === 'plain')?.openapi).toBeNull();
    const doc = await openapi();
    expect(doc.info['x-gateway-service-documents']).toMatchObject({ samples: { state: 'ok' }, late: { state: 'failed' } });
    expect(String(doc.info.description)).toContain('`samples`: fetched');
  });

  it('a failed fetch keeps the last good document and is reported: log with the service, metric, /services', async () => {
    modes.samples.current = 'error';
    const before = await openapi();
    await gw.server.current.documents.refreshAll();
    expect(status('samples')).toMatchObject({ state: 'failed', lastError: expect.stringContaining('status 500') });
    const after = await openapi();
    expect(after.paths['/samples/list']).toEqual(before.paths['/samples/list']);
    expect(String(after.info.description)).toContain('**the last fetch failed**');
    expect(gw.logs().some((l) => l.message === 'service OpenAPI document fetch failed' && l.service === 'samples' && l.level === 'warn')).toBe(true);
    const metrics = (await request(gw.url).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/gateway_openapi_fetches_total\{service="samples",result="failure"\} [1-9]/);
    expect(metrics).toMatch(/gateway_openapi_fetches_total\{service="samples",result="success"\} [1-9]/);
    modes.samples.current = 'ok';
    await gw.server.current.documents.refreshAll();
    expect(status('samples').state).toBe('ok');
  });

  it.each([
    ['larger than maxSize', 'huge' as DocumentMode, 'larger than maxSize 16kb'],
    ['Swagger 2', 'swagger2' as DocumentMode, 'OpenAPI 2'],
    ['not JSON', 'not-json' as DocumentMode, 'not JSON'],
  ])('a document %s is refused and reported, the last good one stays, nothing crashes', async (_name, mode, why) => {
    modes.storage.current = mode;
    await gw.server.current.documents.refreshAll();
    expect(status('storage')).toMatchObject({ state: 'failed', lastError: expect.stringContaining(why) });
    const doc = await openapi();
    expect(doc.paths['/storage/list']).toBeDefined();
    expect(doc.components.schemas['storage.Item']).toBeDefined();
    modes.storage.current = 'ok';
    await gw.server.current.documents.refreshAll();
    expect(status('storage').state).toBe('ok');
  });

  it('a service that comes up later gets its document (the retry comes sooner than refresh)', async () => {
    expect((await openapi()).paths['/late/{path}']).toBeDefined(); // its route entry meanwhile
    const late = await startUpstream(service('late', modes.late), latePort);
    upstreams.push(late);
    // Retries while it was down came 1 s apart, doubling up to 10 s: well before the 1 h refresh.
    await waitFor(() => status('late').state === 'ok', 15_000, 'the late service document');
    const doc = await openapi();
    expect(doc.paths['/late/list'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/late/{path}']).toBeUndefined();
  }, 25_000);

  it('a hot reload keeps the cached documents of unchanged services (no refetch)', async () => {
    const fetchesBefore = documentFetches(samples);
    const fetchedAt = status('samples').fetchedAt;
    gw.write(config(ports, '  - { name: reports, path: /samples/reports, service: plain, methods: [GET] }'));
    expect((await gw.reloader.reload('file')).result).toBe('success');
    expect(status('samples').fetchedAt).toBe(fetchedAt);
    const doc = await openapi();
    expect(doc.paths['/samples/list']).toBeDefined();
    expect(doc.paths['/samples/reports/{path}']).toBeDefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(documentFetches(samples)).toBe(fetchesBefore);
  });
});

describe('/docs lists only the management endpoints that answer', () => {
  let gw: ReloadableGateway;
  afterEach(() => gw?.stop());

  it.each([
    ['without ADMIN_TOKEN: no /admin (it answers 404)', undefined, false],
    ['with ADMIN_TOKEN: /admin/reload and /admin/config', 'admin-token-for-tests', true],
  ])('%s', async (_name, adminToken, listed) => {
    gw = await startReloadable(
      `
version: 1
auth: { enabled: false }
services:
  s: { instances: ["http://127.0.0.1:9"], healthCheck: { enabled: false } }
routes:
  - { name: s, path: /s, service: s }
`,
      { adminToken },
    );
    const doc = (await request(gw.url).get('/docs/openapi.json').expect(200)).body as Doc;
    for (const path of ['/admin/reload', '/admin/config']) {
      expect(doc.paths[path] !== undefined).toBe(listed);
      const answer = await rawRequest(`${gw.url}${path}`, { method: path.endsWith('reload') ? 'POST' : 'GET', headers: adminToken ? { authorization: `Bearer ${adminToken}` } : {} });
      expect(answer.status === 404).toBe(!listed);
    }
  });
});
