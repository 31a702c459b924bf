import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distEntry, ROOT, runNode } from '../helpers/process';

const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const VALID = file(
  'valid.yaml',
  `version: 1
auth:
  jwt: { secret: "\${JWT_SECRET:-do-not-print-me}" }
rateLimiting: { redisUrl: "redis://user:hunter2@127.0.0.1:6379/0" }
services:
  samples: { instances: ["http://127.0.0.1:8081", { url: "http://127.0.0.1:8091", weight: 2 }] }
routes:
  - { name: samples, path: /samples, service: samples, rewrite: /api/v1 }
  - { name: reports, path: /reports, service: samples, methods: [GET] }
`,
);
const INVALID = file(
  'invalid.yaml',
  `version: 1
services:
  samples: { instances: ["http://127.0.0.1:8081"] }
routes:
  - { name: samples, path: /samples, service: sample }
`,
);

async function cli(args: string[], env: Record<string, string> = {}) {
  const p = runNode(distEntry('cli/index.js'), args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}

describe('tracseq-gateway CLI', () => {
  it('lint exits 0 on a valid file, 1 on an invalid one, 2 on a missing one', async () => {
    expect((await cli(['lint', VALID])).code).toBe(0);
    const invalid = await cli(['lint', INVALID]);
    expect(invalid.code).toBe(1);
    expect(invalid.output).toContain(`${INVALID}:5:47 error /routes/0/service: unknown service "sample" (did you mean "samples"?)`);
    const missing = await cli(['lint', join(dir, 'missing.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('cannot read the file: no such file');
  });

  it('lint rejects an unknown format as bad usage (exit 2)', async () => {
    expect((await cli(['lint', VALID, '--format', 'xml'])).code).toBe(2);
  });

  it('start refuses an invalid config with the same errors as lint and exit 1', async () => {
    const started = await cli(['start', '--config', INVALID], { PORT: '1' });
    expect(started.code).toBe(1);
    expect(started.output).toContain('error /routes/0/service: unknown service "sample" (did you mean "samples"?)');
    expect(started.output).toContain('invalid configuration');
  });

  it('start refuses a malformed environment variable, naming it', async () => {
    const started = await cli(['start', '--config', VALID], { PORT: 'abc' });
    expect(started.code).toBe(1);
    expect(started.output).toContain('PORT="abc" must be a whole number from 1 to 65535; fix or unset PORT');
  });

  it('start refuses the shipped routes.yaml when no JWT secret is set, naming the variable', async () => {
    const started = await cli(['start', '--config', join(ROOT, 'routes.yaml')], { PORT: '1' });
    expect(started.code).toBe(1);
    expect(started.output).toContain('error /defaults/auth/required: route "samples" requires auth but no key is set: set auth.jwt.secret (or AUTHENTICATION__JWT_SECRET_KEY)');
  });

  it('lint --env-from reads the variables from that file, the real environment winning', async () => {
    const routes = join(ROOT, 'routes.yaml');
    expect((await cli(['lint', '--strict', routes])).code).toBe(1);
    expect((await cli(['lint', '--strict', '--env-from', join(ROOT, '.env.example'), routes])).code).toBe(0);
    const envFile = file('bad.env', 'AUTHENTICATION__JWT_SECRET_KEY=from-the-file\nPORT=abc\n');
    const bad = await cli(['lint', '--env-from', envFile, routes]);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('PORT="abc" must be a whole number');
    expect((await cli(['lint', '--env-from', envFile, routes], { PORT: '8000' })).code).toBe(0);
  });

  describe('lint checks the file, start checks the environment', () => {
    const warning =
      'routes.yaml:50:13 warning /auth/jwt/secret: environment variable "AUTHENTICATION__JWT_SECRET_KEY" is not set here, so route "samples" and every other route that requires auth have no key to verify tokens with; `tracseq-gateway start` refuses to run until it is set (lint --strict makes this an error)';
    const refusal = 'routes.yaml:18:15 error /defaults/auth/required: route "samples" requires auth but no key is set: set auth.jwt.secret (or AUTHENTICATION__JWT_SECRET_KEY), publicKey or jwksUri';

    it('lint on the shipped routes.yaml without secrets: exit 0, one warning per unset secret saying start will refuse', async () => {
      expect(await cli(['lint', 'routes.yaml'])).toEqual({ code: 0, output: `${warning}\nroutes.yaml: valid (1 warning)\n` });
    });

    it('lint --format github carries the warning as an annotation; --format json lists it with valid: true', async () => {
      expect(await cli(['lint', '--format', 'github', 'routes.yaml'])).toEqual({
        code: 0,
        output: `::warning file=routes.yaml,line=50,col=13::${warning.slice(warning.indexOf('/auth/jwt/secret'))}\n`,
      });
      const json = await cli(['lint', '--format', 'json', 'routes.yaml']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.output)).toEqual({
        valid: true,
        files: [
          { file: 'routes.yaml', valid: true, problems: [{ line: 50, column: 13, severity: 'warning', pointer: '/auth/jwt/secret', message: warning.slice(warning.indexOf('environment variable')) }] },
        ],
      });
    });

    it('lint --strict (CI with the environment) and start make it an error: exit 1', async () => {
      expect(await cli(['lint', '--strict', 'routes.yaml'])).toEqual({ code: 1, output: `${refusal}\nroutes.yaml: 1 error\n` });
      const started = await cli(['start', '--config', 'routes.yaml'], { PORT: '1' });
      expect(started.code).toBe(1);
      expect(started.output).toBe(`${refusal}\nroutes.yaml: invalid configuration; fix the errors above (\`tracseq-gateway lint routes.yaml\` checks it)\n`);
    });

    it('lint --strict with the secret set: exit 0, no warning', async () => {
      expect(await cli(['lint', '--strict', 'routes.yaml'], { AUTHENTICATION__JWT_SECRET_KEY: 'a-secret-of-the-deployment-0123456789' })).toEqual({ code: 0, output: 'routes.yaml: valid\n' });
    });
  });

  it.each([
    { what: 'a missing routes file', args: () => ['lint', '--format', 'json', join(dir, 'missing.yaml')], unreadable: /"unreadable": "no such file"/ },
    { what: 'a missing env file', args: () => ['lint', '--format', 'json', '--env-from', join(dir, 'missing.env'), VALID], unreadable: /"error": ".*missing\.env: cannot read the env file"/ },
  ])('lint --format json prints JSON for exit 2 ($what)', async ({ args, unreadable }) => {
    const linted = await cli(args());
    expect(linted.code).toBe(2);
    const json = /^\{[\s\S]*^\}$/m.exec(linted.output)?.[0] ?? '';
    expect(JSON.parse(json)).toMatchObject({ valid: false });
    expect(json).toMatch(unreadable);
  });

  it('start --env-from with a missing file is bad usage (exit 2)', async () => {
    const started = await cli(['start', '--env-from', join(dir, 'missing.env'), '--config', VALID], { PORT: '1' });
    expect(started.code).toBe(2);
    expect(started.output).toContain('missing.env: cannot read the env file: no such file');
  });

  it('print-config shows the resolved config with secrets masked', async () => {
    const printed = await cli(['print-config', '--config', VALID], { SERVICES__SAMPLES__PORT: '9999' });
    expect(printed.code).toBe(0);
    expect(printed.output).not.toContain('do-not-print-me');
    expect(printed.output).not.toContain('hunter2');
    expect(printed.output).toContain("secret: '***'");
    expect(printed.output).toContain('redis://user:***@127.0.0.1:6379/0');
    expect(printed.output).toContain('url: http://127.0.0.1:9999');
    expect(printed.output).toContain('timeout: 30s');
  });

  it('explain names the route, its stages and each upstream URL', async () => {
    const explained = await cli(['explain', 'GET', '/samples/list?page=2', '--config', VALID]);
    expect(explained.code).toBe(0);
    expect(explained.output).toContain('route:     samples (path /samples');
    expect(explained.output).toContain('stages:    security-headers → auth → balance → proxy');
    expect(explained.output).toContain('http://127.0.0.1:8081/api/v1/list?page=2 (weight 1)');
    expect(explained.output).toContain('http://127.0.0.1:8091/api/v1/list?page=2 (weight 2)');
  });

  it('diff lists routes and services added, removed and changed per field; exit 0 none, 1 some, 2 invalid', async () => {
    const changed = file(
      'changed.yaml',
      `version: 1
services:
  samples: { instances: ["http://127.0.0.1:8081"] }
  rag: { instances: ["http://127.0.0.1:8086"] }
routes:
  - { name: samples, path: /samples, service: samples, rewrite: /api/v2, timeout: 10s }
  - { name: rag, path: /rag, service: rag }
`,
    );
    const out = await cli(['diff', VALID, changed]);
    expect(out.code).toBe(1);
    expect(out.output.trim().split('\n')).toEqual([
      'route samples: changed (rewrite, timeout)',
      '  rewrite: "/api/v1" → "/api/v2"',
      '  timeout: "30s" → "10s"',
      'route reports: removed',
      'route rag: added',
      'service samples: changed (instances)',
      '  instances: [{"url":"http://127.0.0.1:8081","weight":1},{"url":"http://127.0.0.1:8091","weight":2}] → [{"url":"http://127.0.0.1:8081","weight":1}]',
      'service rag: added',
      'setting auth.jwt.secret: changed',
      '  (a secret: changed, not shown)',
      'setting rateLimiting.redisUrl: changed',
      '  "redis://user:***@127.0.0.1:6379/0" → ""',
    ]);
    expect(out.output).not.toContain('pass');
    expect((await cli(['diff', VALID, VALID])).code).toBe(0);
    expect((await cli(['diff', VALID, VALID])).output).toBe('no changes\n');
    expect((await cli(['diff', VALID, INVALID])).code).toBe(2);
  });

  it('diff compares the shipped routes.yaml as written: no secret needed, and a setting the environment overrides still shows', async () => {
    const shipped = readFileSync(join(ROOT, 'routes.yaml'), 'utf8');
    const edited = file('edited.yaml', shipped.replace('timeout: 60s ', 'timeout: 90s ').replace(/^cors:\n {2}enabled: true/m, 'cors:\n  enabled: false'));
    // CORS__ENABLED=true in the environment would have hidden the second change.
    const out = await cli(['diff', join(ROOT, 'routes.yaml'), edited], { CORS__ENABLED: 'true', AUTHENTICATION__JWT_SECRET_KEY: '' });
    expect(out.code).toBe(1);
    expect(out.output.trim().split('\n')).toEqual(['route sequencing: changed (timeout)', '  timeout: "60s" → "90s"', 'setting cors.enabled: changed', '  true → false']);
  });

  it.each([
    ['/health', 'answered to anyone'],
    ['/ready', 'answered to anyone'],
    ['/metrics', 'only to loopback (ipFilter.managementAllow)'],
    ['/health/services', 'only to loopback (ipFilter.managementAllow)'],
    ['/docs/openapi.json', 'answered to anyone'],
  ])('explain GET %s: a management endpoint the gateway answers itself, and to whom', async (path, who) => {
    const explained = await cli(['explain', 'GET', path, '--config', VALID]);
    expect(explained.code).toBe(0);
    expect(explained.output).toContain(`${path} is a management endpoint`);
    expect(explained.output).toContain(who);
  });

  it.each([
    ['405 for a method the route does not allow', ['explain', 'POST', '/reports/1'], '405 GW_METHOD_NOT_ALLOWED', 'Allow: GET'],
    ['404 for a path no route claims', ['explain', 'GET', '/unknown'], '404 GW_NOT_FOUND', 'routes: /samples, /reports'],
    ['400 for dot segments', ['explain', 'GET', '/samples/%2e%2e/x'], '400 GW_BAD_PATH', '".." segments'],
  ])('explain says why nothing matches: %s', async (_name, args, status, detail) => {
    const explained = await cli([...args, '--config', VALID]);
    expect(explained.code).toBe(1);
    expect(explained.output).toContain(status);
    expect(explained.output).toContain(detail);
  });
});
