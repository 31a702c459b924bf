import { checkSemantics } from '../../../src/config/checks';
import { EMPTY_SOURCE_MAP } from '../../helpers/source-map';
import type { GatewayConfig, HttpMethod } from '../../../src/config/types';

/** Just what the overlap check reads: services and routes (every other block is optional to it). */
function configWith(routes: { name: string; path: string; methods?: HttpMethod[]; host?: string }[]): GatewayConfig {
  return {
    services: { samples: { instances: [{ url: 'http://127.0.0.1:8081', weight: 1 }] } },
    routes: routes.map((r) => ({ service: 'samples', host: '', ...r })),
  } as unknown as GatewayConfig;
}

const overlaps = (config: GatewayConfig) => checkSemantics(config, 'r.yaml', EMPTY_SOURCE_MAP).filter((p) => p.message.includes(' overlaps '));

describe('route overlap check', () => {
  it('checks 40,000 routes in a few seconds (every pair was compared: 40 s)', () => {
    const routes = Array.from({ length: 40_000 }, (_, i) => ({ name: `r${i}`, path: `/p${i}` }));
    routes.push({ name: 'late', path: '/p123' });
    const start = Date.now();
    const found = overlaps(configWith(routes));
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(found.map((p) => p.message)).toEqual([
      'route "late" overlaps route "r123" (/routes/123): same path and methods GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS; split the methods or change the path',
    ]);
  });

  it.each([
    {
      what: 'different methods do not overlap',
      routes: [
        { name: 'a', path: '/x', methods: ['GET'] },
        { name: 'b', path: '/x', methods: ['POST'] },
      ],
      expected: [],
    },
    {
      what: 'different hosts do not overlap',
      routes: [
        { name: 'a', path: '/x', host: 'a.example.org' },
        { name: 'b', path: '/x', host: 'b.example.org' },
      ],
      expected: [],
    },
    {
      what: 'a third route is reported against each earlier route that claimed its methods',
      routes: [
        { name: 'a', path: '/x', methods: ['GET'] },
        { name: 'b', path: '/x', methods: ['POST'] },
        { name: 'c', path: '/x', methods: ['GET', 'POST', 'PUT'] },
      ],
      expected: ['route "c" overlaps route "a" (/routes/0): same path and methods GET', 'route "c" overlaps route "b" (/routes/1): same path and methods POST'],
    },
    { what: 'a method listed twice in one route is not an overlap', routes: [{ name: 'a', path: '/x', methods: ['GET', 'GET'] }], expected: [] },
  ] as { what: string; routes: { name: string; path: string; methods?: HttpMethod[]; host?: string }[]; expected: string[] }[])('$what', ({ routes, expected }) => {
    expect(overlaps(configWith(routes)).map((p) => p.message.replace(/; split.*$/, ''))).toEqual(expected);
  });
});
