import { checkConfigText } from '../../../src/config';
import { MAX_ALIAS_VALUES } from '../../../src/config/alias-budget';

const SERVICES_AND_ROUTES = `services:
  samples:
    instances: ["http://127.0.0.1:8081"]
routes:
  - name: samples
    path: /samples
    service: samples
`;

/** `x1: &a1 [*a0]` … : each alias holds the previous one, a chain `depth` deep. */
function aliasChain(depth: number): string {
  let text = 'version: 1\nx0: &a0 ["x"]\n';
  for (let i = 1; i < depth; i++) text += `x${i}: &a${i} [*a${i - 1}]\n`;
  return text + SERVICES_AND_ROUTES;
}

/** `levels` levels of `width` aliases each: width^levels values from a few lines. */
function aliasBomb(levels: number, width: number): string {
  let text = `version: 1\nl0: &a0 [${Array(width).fill('"x"').join(', ')}]\n`;
  for (let i = 1; i < levels; i++)
    text += `l${i}: &a${i} [${Array(width)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return text + SERVICES_AND_ROUTES;
}

function timed<T>(work: () => T): { result: T; ms: number } {
  const start = process.hrtime.bigint();
  const result = work();
  return { result, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

describe('alias expansion is bounded', () => {
  it('refuses a chain of 20,000 aliases with a position, without overflowing the stack', () => {
    const { problems } = checkConfigText('chain.yaml', aliasChain(20_000), {});
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', line: expect.any(Number), column: expect.any(Number) });
    expect(problems[0].message).toMatch(/^\*a\d+ repeats [\d,]+ values, which takes the values repeated through aliases past 100,000/);
  });

  it.each([
    { levels: 9, width: 10, what: 'a billion values' },
    { levels: 30, width: 2, what: 'a billion values in a binary tree of aliases' },
  ])('refuses $what in well under a second', ({ levels, width }) => {
    const { result, ms } = timed(() => checkConfigText('bomb.yaml', aliasBomb(levels, width), {}));
    expect(result.problems.map((p) => p.message)).toEqual([expect.stringContaining('(an alias bomb?)')]);
    expect(ms).toBeLessThan(1000);
  });

  it('accepts aliases that repeat fewer values than the bound, and expands a repeated node once', () => {
    const text = `version: 1
services:
  samples:
    instances: &instances ["http://127.0.0.1:8081"]
    healthCheck: &check { path: "\${CHECK_PATH}" }
  storage:
    instances: *instances
    healthCheck: *check
routes:
  - name: samples
    path: /samples
    service: samples
`;
    // A second pass over the shared healthCheck would expand the ${SUFFIX} that CHECK_PATH brought in.
    const { problems, config } = checkConfigText('ok.yaml', text, { CHECK_PATH: '/health\${SUFFIX}', SUFFIX: '/twice' });
    expect(problems).toEqual([]);
    expect(MAX_ALIAS_VALUES).toBe(100_000);
    expect(Object.values(config?.services ?? {}).map((s) => s.healthCheck.path)).toEqual(['/health\${SUFFIX}', '/health\${SUFFIX}']);
  });
});
