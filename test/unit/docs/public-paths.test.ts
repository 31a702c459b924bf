import { publicPath, serverBasePath } from '../../../src/docs/public-paths';
import { upstreamTarget } from '../../../src/routing/rewrite';

describe('publicPath: the inverse of the proxy rewrite', () => {
  it.each([
    ['rewrite /api/v1', { path: '/samples', rewrite: '/api/v1' }, '/api/v1/list', '/samples/list'],
    ['rewrite /api/v1, the rewrite itself', { path: '/samples', rewrite: '/api/v1' }, '/api/v1', '/samples'],
    ['rewrite /api/v1, a trailing slash', { path: '/samples', rewrite: '/api/v1' }, '/api/v1/', '/samples/'],
    ['rewrite with a trailing slash', { path: '/samples', rewrite: '/api/v1/' }, '/api/v1/{id}', '/samples/{id}'],
    ['rewrite /', { path: '/rag', rewrite: '/' }, '/query', '/rag/query'],
    ['no rewrite, under the prefix', { path: '/samples', rewrite: undefined }, '/samples/{id}', '/samples/{id}'],
    ['no rewrite, outside the prefix', { path: '/samples', rewrite: undefined }, '/internal/stats', undefined],
    ['outside the rewrite', { path: '/samples', rewrite: '/api/v1' }, '/internal/stats', undefined],
    ['not on a segment boundary', { path: '/samples', rewrite: '/api/v1' }, '/api/v10/list', undefined],
  ])('%s: %s', (_name, route, servicePath, expected) => {
    const found = publicPath(route, servicePath);
    expect(found).toBe(expected);
    // What the proxy sends for the public path is the service path again.
    if (found !== undefined && !found.includes('{')) expect(upstreamTarget(found, route.path, route.rewrite)).toBe(route.rewrite === '/' && servicePath === '/' ? '/' : servicePath);
  });

  it.each([
    [[{ url: '/api/v1' }], '/api/v1'],
    [[{ url: 'https://samples.lab.example.org/api/v1/' }], '/api/v1'],
    [[{ url: '/{base}', variables: { base: { default: 'v2' } } }], '/v2'],
    [[{ url: '/' }], ''],
    [undefined, ''],
  ])('serverBasePath(%j) is %j', (servers, expected) => {
    expect(serverBasePath(servers)).toBe(expected);
  });
});
