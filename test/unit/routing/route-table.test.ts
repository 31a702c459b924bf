import { compileGateway, CompiledGateway } from '../../../src/gateway/compile';
import { silentLogger } from '../../../src/observability/logger';
import { upstreamTarget } from '../../../src/routing/rewrite';
import { runtimeDeps } from '../../../src/server/gateway-server';
import { configFrom } from '../../helpers/gateway';

const config = configFrom(`
version: 1
services:
  a: { instances: ["http://127.0.0.1:1"] }
  b: { instances: ["http://127.0.0.1:2"] }
routes:
  - { name: samples, path: /samples, service: a, rewrite: /api/v1 }
  - { name: samples-admin, path: /samples/admin, service: b, methods: [GET] }
  - { name: samples-lab, path: /samples, service: b, host: lab.example.org }
  - { name: wild, path: /wild, service: a, host: "*.example.org" }
  - { name: reports-read, path: /reports, service: a, methods: [GET, HEAD] }
  - { name: reports-write, path: /reports, service: b, methods: [POST] }
  - { name: deep, path: /a/b/c, service: b, rewrite: / }
`);

let gw: CompiledGateway;
beforeAll(() => {
  gw = compileGateway(config, runtimeDeps(silentLogger()));
});
afterAll(() => gw.close());

function lookup(method: string, url: string, host?: string): string {
  const m = gw.table.match(method, host, url);
  switch (m.kind) {
    case 'route':
      return m.route.name;
    case 'method-not-allowed':
      return `405 ${m.allow}`;
    case 'bad-path':
      return '400';
    default:
      return '404';
  }
}

describe('route matching', () => {
  it.each([
    ['exact prefix', 'GET', '/samples', undefined, 'samples'],
    ['prefix with sub-path', 'GET', '/samples/list', undefined, 'samples'],
    ['prefix with query', 'GET', '/samples?q=1', undefined, 'samples'],
    ['prefix with trailing slash', 'GET', '/samples/', undefined, 'samples'],
    ['no match past a segment boundary', 'GET', '/samplesx', undefined, '404'],
    ['no match on a partial segment with query', 'GET', '/samplesx?q=1', undefined, '404'],
    ['longest prefix wins', 'GET', '/samples/admin/users', undefined, 'samples-admin'],
    ['longer prefix owns its methods (405, not a fall-back)', 'POST', '/samples/admin', undefined, '405 GET'],
    ['host-specific route beats any-host route', 'GET', '/samples/x', 'lab.example.org', 'samples-lab'],
    ['host match ignores port and case', 'GET', '/samples/x', 'LAB.example.org:8000', 'samples-lab'],
    ['other host falls back to any-host route', 'GET', '/samples/x', 'other.example.org', 'samples'],
    ['wildcard host matches a subdomain', 'GET', '/wild/1', 'a.example.org', 'wild'],
    ['wildcard host does not match the bare domain', 'GET', '/wild/1', 'example.org', '404'],
    ['two routes split methods on one prefix (GET)', 'GET', '/reports/1', undefined, 'reports-read'],
    ['two routes split methods on one prefix (POST)', 'POST', '/reports', undefined, 'reports-write'],
    ['method allowed by neither route: 405 with the union', 'DELETE', '/reports/1', undefined, '405 GET, HEAD, POST'],
    ['multi-segment prefix', 'PUT', '/a/b/c/d', undefined, 'deep'],
    ['multi-segment prefix not matched by its parent', 'PUT', '/a/b', undefined, '404'],
    ['unknown path', 'GET', '/nothing', undefined, '404'],
    ['root path goes to management', 'GET', '/', undefined, '404'],
    ['raw dot-dot segment', 'GET', '/samples/../auth', undefined, '400'],
    ['raw dot segment', 'GET', '/samples/./list', undefined, '400'],
    ['encoded dot-dot segment', 'GET', '/samples/%2e%2e/auth', undefined, '400'],
    ['mixed-case encoded dot-dot', 'GET', '/samples/%2E./auth', undefined, '400'],
    ['encoded slash hiding dot-dot', 'GET', '/samples/x%2f..%2fauth', undefined, '400'],
    ['backslash dot-dot', 'GET', '/samples/..\\auth', undefined, '400'],
    ['invalid percent-encoding', 'GET', '/samples/%zz', undefined, '400'],
    ['absolute-form target', 'GET', 'http://evil/samples', undefined, '400'],
    ['dots inside a segment are fine', 'GET', '/samples/file..txt', undefined, 'samples'],
    ['dot-dot in the query is not a path segment', 'GET', '/samples/list?next=../x', undefined, 'samples'],
    ['encoded NUL byte', 'GET', '/samples/a%00b', undefined, '400'],
    ['a fragment after a dot-dot (a server that drops it sees "..")', 'GET', '/samples/..#frag', undefined, '400'],
    ['a fragment anywhere in the path', 'GET', '/samples/x#y', undefined, '400'],
  ])('%s: %s %s', (_name, method, url, host, expected) => {
    expect(lookup(method, url, host)).toBe(expected);
  });
});

describe('route matching when no route names a host', () => {
  let plain: CompiledGateway;
  beforeAll(() => {
    plain = compileGateway(
      configFrom(`
version: 1
services:
  a: { instances: ["http://127.0.0.1:1"] }
routes:
  - { name: samples, path: /samples, service: a, methods: [GET] }
`),
      runtimeDeps(silentLogger()),
    );
  });
  afterAll(() => plain.close());

  it.each([undefined, 'lab.example.org', 'LAB.example.org:8000', '[::1]:8000'])('any Host header (%s) reaches the route', (host) => {
    const m = plain.table.match('GET', host, '/samples/1');
    expect(m.kind === 'route' && m.route.name).toBe('samples');
  });

  it('gives the same match object to every request of a route, and a fresh 405 per request', () => {
    expect(plain.table.match('GET', undefined, '/samples/1')).toBe(plain.table.match('GET', 'x', '/samples/2'));
    expect(plain.table.match('POST', undefined, '/samples')).toEqual({ kind: 'method-not-allowed', allow: 'GET' });
  });
});

describe('upstream target after rewrite', () => {
  it.each([
    ['prefix only', '/samples', '/samples', '/api/v1', '/api/v1'],
    ['sub-path', '/samples/list', '/samples', '/api/v1', '/api/v1/list'],
    ['query kept raw', '/samples/list?a=%20b&c=d+e', '/samples', '/api/v1', '/api/v1/list?a=%20b&c=d+e'],
    ['query right after prefix', '/samples?x=1', '/samples', '/api/v1', '/api/v1?x=1'],
    ['path encoding kept', '/samples/a%2Fb%20c', '/samples', '/api/v1', '/api/v1/a%2Fb%20c'],
    ['rewrite to root', '/a/b/c/d?x', '/a/b/c', '/', '/d?x'],
    ['rewrite to root, prefix only', '/a/b/c', '/a/b/c', '/', '/'],
    ['no rewrite keeps the path', '/samples/list?x', '/samples', undefined, '/samples/list?x'],
  ])('%s', (_name, url, prefix, rewrite, expected) => {
    expect(upstreamTarget(url, prefix, rewrite)).toBe(expected);
  });
});
