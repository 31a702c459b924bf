import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig, RouteConfig } from '../../../src/config/types';
import { buildOpenApi, routePathKey } from '../../../src/docs/openapi';
import type { OpenApiOperation } from '../../../src/docs/openapi-types';
import { schemaReader } from '../../../src/docs/schema-files';
import { configFrom } from '../../helpers/gateway';

const BASE = `
version: 1
auth: { jwt: { secret: "s3cret", algorithms: [HS256] } }
services:
  samples: { instances: ["http://127.0.0.1:8081"] }
  auth: { instances: ["http://127.0.0.1:8080"] }
routes:
  - { name: samples, path: /samples, service: samples, rewrite: /api/v1, auth: { required: true, anyRole: [lab] } }
  - { name: login, path: /auth, service: auth, methods: [POST], auth: { required: false } }
  - { name: reports, path: /samples/reports, service: samples, methods: [GET, HEAD], auth: { required: true } }
`;

/** Root of a fresh temp "repository": a config folder beside schema files at two levels. */
function layout() {
  const root = mkdtempSync(join(tmpdir(), 'gw-openapi-'));
  mkdirSync(join(root, 'config', 'schemas'), { recursive: true });
  mkdirSync(join(root, 'shared'), { recursive: true });
  writeFileSync(
    join(root, 'config', 'schemas', 'sample.json'),
    JSON.stringify({ $id: 'https://example.org/sample', $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['barcode'], properties: { barcode: { type: 'string' } } }),
  );
  writeFileSync(join(root, 'shared', 'login.yaml'), 'type: object\nrequired: [username, password]\nproperties:\n  username: { type: string }\n  password: { type: string }\n');
  writeFileSync(join(root, 'config', 'broken.json'), '{ not json');
  return { root, routesFile: join(root, 'config', 'routes.yaml') };
}

/**
 * `validate` and `rateLimit` are refused by lint until their stages ship; the document must still
 * describe them, so these cases set them on an otherwise valid resolved config.
 */
function withPolicies(config: GatewayConfig, edit: (routes: Record<string, RouteConfig>) => void): GatewayConfig {
  const copy = structuredClone(config);
  edit(Object.fromEntries(copy.routes.map((r) => [r.name, r])));
  return copy;
}

const op = (doc: ReturnType<typeof buildOpenApi>, path: string, method: string) => (doc.paths[path] as Record<string, OpenApiOperation | undefined>)[method];

describe('buildOpenApi', () => {
  const { root, routesFile } = layout();
  const config = withPolicies(configFrom(BASE), (r) => {
    r.samples.rateLimit = { enabled: true, requestsPerMinute: 120, burst: 20, key: 'user' };
    r.samples.validate = { 'POST /': 'schemas/sample.json', 'PUT /items': 'missing.json', 'PATCH /x': 'broken.json' };
    r.login.validate = { 'POST /login': 'shared/login.yaml', 'GET /ignored': 'shared/login.yaml' };
  });
  const doc = buildOpenApi(config, { readSchema: schemaReader(routesFile, root) });

  it('is an OpenAPI 3.1 document named after the gateway, served relative to itself', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('TracSeq API Gateway');
    expect(doc.servers).toEqual([{ url: '/' }]);
  });

  it('a route that takes every method is one "any method" entry, not seven identical ones', () => {
    const item = doc.paths['/samples/{path}'];
    expect(Object.keys(item).filter((k) => !k.startsWith('x-') && k !== 'summary')).toEqual(['get']);
    const operation = op(doc, '/samples/{path}', 'get')!;
    expect(operation.summary).toMatch(/^Any method/);
    expect(operation['x-gateway-methods']).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  });

  it.each([
    ['samples', '/samples/{path}', ['get']],
    ['login', '/auth/{path}', ['post']],
    ['reports (HEAD goes with GET)', '/samples/reports/{path}', ['get']],
  ])('route %s has one path item %s with exactly its methods', (label, key, methods) => {
    const name = label.split(' ')[0];
    const route = config.routes.find((r) => r.name === name)!;
    expect(routePathKey(route)).toBe(key);
    const item = doc.paths[key];
    expect(item['x-gateway-route']).toBe(name);
    expect(Object.keys(item).filter((k) => !k.startsWith('x-') && k !== 'summary')).toEqual(methods);
    for (const m of methods) {
      expect(op(doc, key, m)?.tags).toEqual([name]);
      expect(op(doc, key, m)?.parameters).toEqual([expect.objectContaining({ name: 'path', in: 'path', required: true })]);
    }
  });

  it.each([
    ['auth.required: bearer, 401 and (with roles) 403', '/samples/{path}', 'get', [{ bearer: [] }], ['401', '403']],
    ['auth.required: false: no security', '/auth/{path}', 'post', [], []],
    ['auth.required without roles: no 403', '/samples/reports/{path}', 'get', [{ bearer: [] }], ['401']],
  ])('%s', (_name, path, method, security, statuses) => {
    const operation = op(doc, path, method)!;
    expect(operation.security).toEqual(security);
    for (const s of ['401', '403']) expect(s in operation.responses).toBe(statuses.includes(s));
  });

  it('no route needs a token when auth is off for the whole gateway', () => {
    const off = buildOpenApi({ ...config, auth: { ...config.auth, enabled: false } }, { readSchema: schemaReader(routesFile, root) });
    expect(op(off, '/samples/{path}', 'get')?.security).toEqual([]);
  });

  it('notes the rate limit as x-ratelimit, in the description and with a 429', () => {
    const operation = op(doc, '/samples/{path}', 'get')!;
    expect(operation['x-ratelimit']).toEqual({ requestsPerMinute: 120, burst: 20, key: 'user' });
    expect(operation.description).toContain('120 requests per minute (burst 20) per user');
    expect(operation.responses['429']).toBeDefined();
    expect(op(doc, '/auth/{path}', 'post')?.['x-ratelimit']).toBeUndefined();
  });

  it('leaves the rate limit out when rate limiting is off for the whole gateway', () => {
    const off = buildOpenApi({ ...config, rateLimiting: { ...config.rateLimiting, enabled: false } }, { readSchema: schemaReader(routesFile, root) });
    expect(op(off, '/samples/{path}', 'get')?.['x-ratelimit']).toBeUndefined();
  });

  it.each([
    ['beside the routes file (not in the working directory), $id and $schema dropped', '/samples', 'post', { type: 'object', required: ['barcode'], properties: { barcode: { type: 'string' } } }],
    [
      'from the working directory (the repository root), YAML',
      '/auth/login',
      'post',
      { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } },
    ],
  ])('request body schema read %s', (_name, path, method, schema) => {
    const operation = op(doc, path, method)!;
    expect(operation.requestBody).toMatchObject({ required: true, content: { 'application/json': { schema } } });
    expect(operation.responses['400']).toBeDefined();
    expect(operation.security).toEqual(path.startsWith('/samples') ? [{ bearer: [] }] : []);
  });

  it.each([
    ['a missing file', '/samples/items', 'put', 'schema file not found'],
    ['an unreadable file', '/samples/x', 'patch', 'unreadable'],
  ])('says so for %s, keeping the operation', (_name, path, method, why) => {
    const body = op(doc, path, method)!.requestBody as { description: string; content: Record<string, { schema: unknown }> };
    expect(body.description).toContain(why);
    expect(body.content['application/json'].schema).toEqual({});
  });

  it('skips validate entries for methods the route does not allow', () => {
    expect(doc.paths['/auth/ignored']).toBeUndefined();
  });

  const withAdmin = buildOpenApi(config, { readSchema: schemaReader(routesFile, root), management: { restricted: true, admin: { reload: true } } });
  it.each(['/', '/health', '/ready', '/health/services', '/services', '/metrics', '/docs', '/docs/openapi.json', '/admin/reload', '/admin/config'])('documents the management endpoint %s', (path) => {
    const item = withAdmin.paths[path];
    expect(item).toBeDefined();
    const operations = Object.values(item).filter((v): v is OpenApiOperation => typeof v === 'object' && v !== null && 'responses' in v);
    expect(operations.length).toBe(1);
    expect(operations[0].tags).toEqual(['gateway']);
    expect(operations[0].security).toEqual(path.startsWith('/admin') ? [{ adminToken: [] }] : []);
  });

  it.each([
    ['without ADMIN_TOKEN (they answer 404)', { restricted: true, admin: undefined }, ['/metrics', '/services', '/health/services'], ['/admin/reload', '/admin/config']],
    ['with ADMIN_TOKEN but no routes file to reload', { restricted: true, admin: { reload: false } }, ['/admin/config'], ['/admin/reload']],
    [
      'for a client outside ipFilter.managementAllow (they answer 403)',
      { restricted: false, admin: { reload: true } },
      ['/', '/health', '/docs'],
      ['/metrics', '/services', '/health/services', '/admin/reload', '/admin/config'],
    ],
  ])('lists only the management endpoints that answer: %s', (_name, management, listed, absent) => {
    const built = buildOpenApi(config, { readSchema: schemaReader(routesFile, root), management });
    for (const path of listed) expect(built.paths[path]).toBeDefined();
    for (const path of absent) expect(built.paths[path]).toBeUndefined();
  });

  it('leaves /metrics out when metrics are off', () => {
    const off = buildOpenApi({ ...config, monitoring: { ...config.monitoring, metrics: false } }, { readSchema: schemaReader(routesFile, root) });
    expect(off.paths['/metrics']).toBeUndefined();
  });

  it('declares every path parameter its templates use, every security scheme and schema it refers to, and unique operation ids', () => {
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [key, value] of Object.entries(item)) {
        if (key.startsWith('x-') || key === 'summary' || key === 'description') continue;
        const operation = value as OpenApiOperation;
        expect((operation.parameters ?? []).map((p) => p.name)).toEqual(templated);
        for (const requirement of operation.security) for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes[scheme]).toBeDefined();
        if (operation.operationId) ids.push(operation.operationId);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]);
    for (const ref of refs) expect(doc.components.schemas[ref]).toBeDefined();
  });
});

describe('schemaReader', () => {
  it('prefers the working directory (where the validate stage reads) over the routes file folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'gw-schema-'));
    mkdirSync(join(root, 'conf', 'schemas'), { recursive: true });
    mkdirSync(join(root, 'schemas'));
    writeFileSync(join(root, 'schemas', 'a.json'), '{"title":"root"}');
    writeFileSync(join(root, 'conf', 'schemas', 'a.json'), '{"title":"beside"}');
    const read = schemaReader(join(root, 'conf', 'routes.yaml'), root);
    expect(read('schemas/a.json')).toEqual({ file: join(root, 'schemas', 'a.json'), schema: { title: 'root' } });
    expect(read(join(root, 'conf', 'schemas', 'a.json'))).toMatchObject({ schema: { title: 'beside' } });
  });
});
