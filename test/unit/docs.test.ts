import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG } from '../../src/errors/catalog';
import { ENV_OVERRIDES } from '../../src/config/env';
import { routesSchema, SchemaNode } from '../../src/config/schema';

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const envExample = readFileSync(join(ROOT, '.env.example'), 'utf8');

/** The README's error table rows: `| \`GW_X\` | 404 | … |`. */
const documentedCodes = new Map([...readme.matchAll(/^\| `(GW_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));

describe('the README and .env.example stay in step with the code', () => {
  it.each(Object.entries(ERROR_CATALOG))('error code %s is documented with its status', (code, entry) => {
    expect(documentedCodes.get(code)).toBe(entry.status);
  });

  it('documents no error code the catalog does not have', () => {
    expect([...documentedCodes.keys()].filter((c) => !(c in ERROR_CATALOG))).toEqual([]);
  });

  it.each(ENV_OVERRIDES.map((o) => o.variable))('environment variable %s is in the README and .env.example', (variable) => {
    expect(readme).toContain(variable);
    expect(envExample).toContain(variable);
  });

  const schema = routesSchema();
  const defs = schema.$defs as Record<string, SchemaNode>;
  it.each([
    ...Object.keys(schema.properties ?? {}).map((p) => ['top level', p]),
    ...Object.keys(defs.route.properties ?? {}).map((p) => ['route', p]),
    ...Object.keys(defs.service.properties ?? {}).map((p) => ['service', p]),
    ...Object.keys((schema.properties?.gateway as SchemaNode).properties ?? {}).map((p) => ['gateway', p]),
  ])('%s setting `%s` appears in the README reference', (_where, property) => {
    expect(readme).toContain(`\`${property}\``);
  });

  it('every schema property has a description and a default', () => {
    const missing: string[] = [];
    const walk = (node: SchemaNode, path: string) => {
      for (const [name, prop] of Object.entries(node.properties ?? {})) {
        const resolved = prop.$ref ? defs[prop.$ref.split('/').pop()!] : prop;
        if (!resolved.description || !('default' in resolved)) missing.push(`${path}/${name}`);
        walk(resolved, `${path}/${name}`);
      }
      if (typeof node.additionalProperties === 'object') {
        const ap = node.additionalProperties.$ref ? defs[node.additionalProperties.$ref.split('/').pop()!] : node.additionalProperties;
        walk(ap, `${path}/*`);
      }
      if (node.items) walk(node.items.$ref ? defs[node.items.$ref.split('/').pop()!] : node.items, `${path}/[]`);
      for (const branch of node.oneOf ?? []) walk(branch, path);
    };
    walk(schema, '');
    expect(missing).toEqual([]);
  });
});
