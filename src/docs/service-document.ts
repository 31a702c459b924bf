import yaml from 'js-yaml';
import { isRecord } from '../util/is-record';

/**
 * A service's own OpenAPI document as fetched: only checked enough that the rewrite can walk it
 * (an object with `openapi: 3.x` and a `paths` object); the rest is data passed through.
 */
export interface ServiceDocument {
  openapi: string;
  paths: Record<string, unknown>;
  servers?: unknown;
  components?: Record<string, unknown>;
  [key: string]: unknown;
}

export type ParsedDocument = { document: ServiceDocument } | { error: string };

/**
 * The body of a document fetch, parsed and checked. JSON unless the service says YAML in its
 * Content-Type (js-yaml's default schema builds plain data only: no functions, no classes).
 */
export function parseServiceDocument(body: Buffer, contentType: string | undefined): ParsedDocument {
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = /yaml/i.test(contentType ?? '') ? yaml.load(text) : JSON.parse(text);
  } catch (err) {
    return { error: `not ${/yaml/i.test(contentType ?? '') ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}` };
  }
  if (!isRecord(value)) return { error: 'not an OpenAPI document (the top level is not an object)' };
  if (typeof value.swagger === 'string') return { error: `Swagger ${value.swagger} (OpenAPI 2) is not supported; publish OpenAPI 3.0 or 3.1` };
  if (typeof value.openapi !== 'string' || !/^3\.\d+(\.\d+)?/.test(value.openapi)) {
    return { error: `not an OpenAPI 3 document (openapi: ${JSON.stringify(value.openapi ?? null)})` };
  }
  if (!isRecord(value.paths)) return { error: 'the document has no paths object' };
  if (value.components !== undefined && !isRecord(value.components)) return { error: 'components is not an object' };
  return { document: value as ServiceDocument };
}
