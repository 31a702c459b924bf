import { healthStallDuring } from '../helpers/health-stall';
import { startReloadable, ReloadableGateway } from '../helpers/reloadable';

const VALID = `version: 1
services:
  samples: { instances: ["http://127.0.0.1:1"], healthCheck: { enabled: false } }
routes:
  - { name: samples, path: /samples, service: samples }
`;

/** Many routes and one typo at the end: seconds of checking, then a refusal. */
function manyRoutesAndOneError(count: number): string {
  let text = 'version: 1\nservices:\n  samples: { instances: ["http://127.0.0.1:1"] }\nroutes:\n';
  for (let i = 0; i < count; i++) text += `  - { name: r${i}, path: /p${i}, service: samples, timeout: 5s, methods: [GET, POST] }\n`;
  return `${text}  - { name: last, path: /last, service: sample }\n`;
}

function aliasBomb(): string {
  let text = `version: 1\na0: &a0 [${Array(10).fill('"x"').join(', ')}]\n`;
  for (let i = 1; i < 9; i++)
    text += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return text + VALID.replace('version: 1\n', '');
}

let gw: ReloadableGateway;
beforeAll(async () => {
  gw = await startReloadable(VALID);
});
afterAll(() => gw.stop());

/** A valid file of `count` routes: a reload checks it beside serving, then compiles it in turns. */
function manyRoutes(count: number): string {
  let text = 'version: 1\nservices:\n  samples: { instances: ["http://127.0.0.1:1"], healthCheck: { enabled: false } }\nroutes:\n';
  for (let i = 0; i < count; i++) text += `  - { name: r${i}, path: /p${i}, service: samples, timeout: 5s, methods: [GET, POST] }\n`;
  return text;
}

describe('a reload of a large valid file never stalls serving', () => {
  afterAll(async () => {
    gw.write(VALID);
    await gw.reloader.reload('file');
  });

  it('10,000 routes: /health answers within 100 ms while it is checked and compiled, then they serve', async () => {
    gw.write(manyRoutes(10_000));
    const { result, stallMs, answered } = await healthStallDuring(gw.url, () => gw.reloader.reload('file'));
    expect(result.result).toBe('success');
    expect(answered).toBeGreaterThan(0);
    expect(stallMs).toBeLessThan(100);
    expect(gw.server.current.routes.length).toBe(10_000);
  }, 60_000);
});

describe('a reload of a hostile file never stalls serving', () => {
  it.each([
    { what: '10,000 routes with one error (seconds of checking)', text: () => manyRoutesAndOneError(10_000), error: /unknown service "sample"/ },
    { what: 'an alias bomb', text: aliasBomb, error: /an alias bomb/ },
    {
      what: 'an alias chain 20,000 deep',
      text: () => `version: 1\nx0: &a0 [1]\n${Array.from({ length: 19_999 }, (_, i) => `x${i + 1}: &a${i + 1} [*a${i}]`).join('\n')}\n`,
      error: /aliases past 100,000/,
    },
    { what: 'binary', text: () => '\u0000\u0001\u0002\u00ff'.repeat(100_000), error: /NUL byte/ },
    { what: 'a 17 MiB file', text: () => `# ${'x'.repeat(17 * 1024 * 1024)}\n`, error: /more than a routes file may/ },
  ])(
    '$what: /health answers within 100 ms, the reload fails with the reason, the old config serves',
    async ({ text, error }) => {
      gw.write(text());
      const { result, worstMs, stallMs, answered } = await healthStallDuring(gw.url, () => gw.reloader.reload('file'));
      expect(result.result).toBe('failure');
      expect(result.errors.join('\n')).toMatch(error);
      expect(answered).toBeGreaterThan(0);
      expect(stallMs).toBeLessThan(100);
      // The round trip also waits for the cores other test files keep busy: bounded, more loosely.
      expect(worstMs).toBeLessThan(500);
      expect(gw.server.current.config.routes.map((r) => r.name)).toEqual(['samples']);
    },
    30_000,
  );
});
