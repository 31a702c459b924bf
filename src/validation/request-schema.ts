import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';

/** `"<METHOD> <subpath>"`, the keys of a route's `validate` block. */
export const VALIDATE_KEY = /^(POST|PUT|PATCH|DELETE) (\/[^\s?#]*)$/;

/**
 * One Ajv per compiled config: strict, every error reported, no type coercion (the body is proxied
 * as sent). ajv and ajv-formats load only when a config validates request bodies: they add several
 * MiB to the resident size of every other gateway.
 */
export function createAjv(): Ajv {
  const AjvClass = (require('ajv') as typeof import('ajv')).default;
  const addFormats = (require('ajv-formats') as typeof import('ajv-formats')).default;
  const ajv = new AjvClass({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv;
}

/** Schema files are named relative to the working directory, where routes.yaml lives. */
export function loadRequestSchema(ajv: Ajv, file: string): ValidateFunction {
  const schema = JSON.parse(readFileSync(resolve(file), 'utf8')) as object;
  return ajv.compile(schema);
}

/** Why `file` cannot be used as a request schema, for lint; undefined when it can. */
export function requestSchemaProblem(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch {
    return `schema file "${file}" cannot be read (paths are relative to the working directory)`;
  }
  try {
    createAjv().compile(JSON.parse(text) as object);
  } catch (err) {
    return `schema file "${file}" is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}
