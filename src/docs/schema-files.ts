import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import yaml from 'js-yaml';

/** A request body schema named by a route's `validate:` entry, or why it could not be read. */
export type SchemaFile = { file: string; schema: Record<string, unknown> } | { file: string; error: string };

export type SchemaReader = (name: string) => SchemaFile;

/**
 * Reads `validate:` schema files as routes.yaml names them: an absolute path as is, otherwise from
 * the working directory first (the repository root: where the validate stage reads them, so the
 * document shows the schema that is enforced), then beside the routes file (a config folder kept
 * apart, e.g. for `openapi --config other/routes.yaml`). JSON or YAML.
 */
export function schemaReader(routesFile: string | undefined, cwd = process.cwd()): SchemaReader {
  const bases = [cwd, ...(routesFile ? [dirname(resolve(cwd, routesFile))] : [])];
  return (name) => {
    const candidates = isAbsolute(name) ? [name] : bases.map((b) => resolve(b, name));
    const file = candidates.find((c) => existsSync(c));
    if (!file) return { file: name, error: `schema file not found (looked in ${candidates.join(', ')})` };
    try {
      const schema = yaml.load(readFileSync(file, 'utf8'));
      if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return { file, error: 'not a JSON Schema object' };
      return { file, schema: schema as Record<string, unknown> };
    } catch (err) {
      return { file, error: `unreadable: ${(err as Error).message.split('\n')[0]}` };
    }
  };
}
