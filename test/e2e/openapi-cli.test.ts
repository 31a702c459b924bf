import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distEntry, runNode } from '../helpers/process';

const dir = mkdtempSync(join(tmpdir(), 'gw-openapi-cli-'));
mkdirSync(join(dir, 'conf'));
const ROUTES = join(dir, 'conf', 'routes.yaml');
writeFileSync(
  ROUTES,
  `version: 1
auth:
  jwt: { secret: "\${JWT_SECRET}" }
services:
  samples: { instances: ["http://127.0.0.1:8081"] }
routes:
  - { name: samples, path: /samples, service: samples, auth: { required: true } }
  - { name: public, path: /public, service: samples, methods: [GET] }
`,
);
const ENV = join(dir, 'ci.env');
writeFileSync(ENV, 'JWT_SECRET=placeholder\n');

async function cli(args: string[]) {
  const p = runNode(distEntry('cli/index.js'), args, {});
  const code = await p.exited;
  return { code, output: p.output() };
}

describe('tracseq-gateway openapi', () => {
  it('prints the OpenAPI document of --config, with variables from --env-from', async () => {
    const { code, output } = await cli(['openapi', '--config', ROUTES, '--env-from', ENV]);
    expect(code).toBe(0);
    const doc = JSON.parse(output) as { openapi: string; paths: Record<string, Record<string, { security?: unknown[] }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/samples/{path}'].get.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.paths['/public/{path}']).filter((k) => !k.startsWith('x-') && k !== 'summary')).toEqual(['get']);
    expect(doc.paths['/public/{path}'].get.security).toEqual([]);
    expect(doc.paths['/health']).toBeDefined();
    expect(output).not.toContain('placeholder');
  });

  it('refuses an invalid config like the other commands: the lint errors and exit 1', async () => {
    const { code, output } = await cli(['openapi', '--config', ROUTES]);
    expect(code).toBe(1);
    expect(output).toContain('JWT_SECRET');
  });

  it('exits 2 on a missing file', async () => {
    expect((await cli(['openapi', '--config', join(dir, 'missing.yaml'), '--env-from', ENV])).code).toBe(2);
  });
});
