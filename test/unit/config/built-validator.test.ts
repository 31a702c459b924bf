import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import { load } from 'js-yaml';
import { routesSchema } from '../../../src/config/schema';
import { ROUTES_AJV_OPTIONS, routesSchemaHash } from '../../../src/config/validate';
import { distEntry, ROOT } from '../../helpers/process';

/**
 * The routes validator that `npm run build` writes out as code must judge every file exactly as
 * ajv compiling the schema at run time does, and must be tied to the schema it was built from.
 */
const built = require(distEntry('config/routes-validator.js')) as { schemaHash: string; validate: ValidateFunction };
const compiled = new Ajv2020(ROUTES_AJV_OPTIONS).compile(routesSchema());

const dirs = ['valid', 'invalid'].map((d) => join(ROOT, 'test', 'fixtures', 'config', d));
const documents: [string, unknown][] = [];
for (const dir of dirs) {
  for (const name of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n))) {
    try {
      documents.push([name, load(readFileSync(join(dir, name), 'utf8'))]);
    } catch {
      /* not YAML at all: the validator never sees it */
    }
  }
}
documents.push(['routes.yaml', load(readFileSync(join(ROOT, 'routes.yaml'), 'utf8'))]);

it('was built from the schema as it is now', () => {
  expect(built.schemaHash).toBe(routesSchemaHash());
});

it.each(documents)('%s gets the same verdict and errors from both', (_name, doc) => {
  const verdict = built.validate(doc);
  expect(verdict).toBe(compiled(doc));
  const shape = (errors: typeof compiled.errors) => (errors ?? []).map((e) => ({ at: e.instancePath, keyword: e.keyword, params: e.params }));
  expect(shape(built.validate.errors)).toEqual(shape(compiled.errors));
});

it('the fixtures include files the schema refuses', () => {
  expect(documents.filter(([, doc]) => !compiled(doc)).length).toBeGreaterThan(10);
});
