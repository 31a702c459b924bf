import request from 'supertest';
import { startReloadable, ReloadableGateway } from '../helpers/reloadable';

const config = (routes: string) => `
version: 1
auth: { enabled: false }
services:
  samples: { instances: ["http://127.0.0.1:9"], healthCheck: { enabled: false } }
routes:
${routes}
`;
const ONE = config('  - { name: samples, path: /samples, service: samples, methods: [GET, POST] }');
const TWO = config(`  - { name: samples, path: /samples, service: samples, methods: [GET, POST] }
  - { name: storage, path: /storage, service: samples, methods: [GET] }`);

let gw: ReloadableGateway;

beforeAll(async () => {
  gw = await startReloadable(ONE);
});

afterAll(async () => {
  await gw.stop();
});

describe('GET /docs/openapi.json', () => {
  it('is the OpenAPI document of the running config, rebuilt after a hot reload', async () => {
    const before = await request(gw.url).get('/docs/openapi.json');
    expect(before.status).toBe(200);
    expect(before.headers['content-type']).toContain('application/json');
    expect(before.body.openapi).toBe('3.1.0');
    expect(Object.keys(before.body.paths)).toContain('/samples/{path}');
    expect(Object.keys(before.body.paths)).not.toContain('/storage/{path}');
    expect(Object.keys(before.body.paths['/samples/{path}']).filter((k: string) => !k.startsWith('x-') && k !== 'summary')).toEqual(['get', 'post']);

    gw.write(TWO);
    expect((await gw.reloader.reload('file')).result).toBe('success');
    const after = await request(gw.url).get('/docs/openapi.json');
    expect(after.body.paths['/storage/{path}'].get.tags).toEqual(['storage']);
  });
});

describe('GET /docs', () => {
  it('is the Swagger UI page, loading only the gateway own files', async () => {
    const res = await request(gw.url).get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    const urls = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) expect(url).toMatch(/^\/docs\//);
    expect(res.text).not.toMatch(/<script>/);
  });

  it.each([
    ['/docs/assets/swagger-ui-bundle.js', 'javascript'],
    ['/docs/assets/swagger-ui-standalone-preset.js', 'javascript'],
    ['/docs/assets/swagger-ui.css', 'text/css'],
    ['/docs/init.js', 'javascript'],
  ])('serves %s from the local swagger-ui-dist package', async (path, type) => {
    const res = await request(gw.url).get(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain(type);
  });

  it('turns off the external validator badge in the initializer', async () => {
    const res = await request(gw.url).get('/docs/init.js');
    expect(res.text).toContain("url: '/docs/openapi.json'");
    expect(res.text).toContain('validatorUrl: null');
  });

  it('never serves files outside the listed assets', async () => {
    const res = await request(gw.url).get('/docs/assets/..%2Fpackage.json');
    expect([400, 404]).toContain(res.status);
  });

  // The package's own index.html and initializer point at the public petstore.
  it.each(['/docs/assets/index.html', '/docs/assets/swagger-initializer.js', '/docs/nothing'])('answers 404 problem+json for %s', async (path) => {
    const res = await request(gw.url).get(path);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});
