import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from '../util/is-record';

/** A JSON Schema node, loosely typed: the walkers below only read a few keywords. */
export interface SchemaNode {
  $ref?: string;
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  default?: unknown;
  description?: string;
  [keyword: string]: unknown;
}

let cachedText: string | undefined;
let cached: SchemaNode | undefined;

/** The text of schemas/routes.schema.json; found from src/ and from dist/ alike. */
export function routesSchemaText(): string {
  cachedText ??= readFileSync(join(__dirname, '..', '..', 'schemas', 'routes.schema.json'), 'utf8');
  return cachedText;
}

/** schemas/routes.schema.json, the contract of routes.yaml. */
export function routesSchema(): SchemaNode {
  cached ??= JSON.parse(routesSchemaText()) as SchemaNode;
  return cached;
}

export function deref(root: SchemaNode, node: SchemaNode): SchemaNode {
  while (node.$ref) {
    const path = node.$ref.replace(/^#\//, '').split('/');
    let target: unknown = root;
    for (const token of path) target = (target as Record<string, unknown>)[token];
    node = target as SchemaNode;
  }
  return node;
}

/** Fills every absent property that has a `default` in the schema, depth first. */
export function fillDefaults(root: SchemaNode, node: SchemaNode, value: unknown): void {
  node = deref(root, node);
  if (node.oneOf) {
    const branch = node.oneOf.map((b) => deref(root, b)).find((b) => (b.type === 'object') === isRecord(value));
    if (branch) fillDefaults(root, branch, value);
    return;
  }
  if (isRecord(value)) {
    const props = node.properties ?? {};
    for (const [key, propSchema] of Object.entries(props)) {
      const resolved = deref(root, propSchema);
      if (value[key] === undefined && resolved.default !== undefined) value[key] = structuredClone(resolved.default);
      if (value[key] !== undefined) fillDefaults(root, resolved, value[key]);
    }
    if (typeof node.additionalProperties === 'object') {
      for (const key of Object.keys(value)) if (!Object.hasOwn(props, key)) fillDefaults(root, node.additionalProperties, value[key]);
    }
  } else if (Array.isArray(value) && node.items) {
    for (const item of value) fillDefaults(root, node.items, item);
  }
}

/** Objects merge key by key; arrays and scalars of the override replace the base. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return structuredClone(base);
  if (!isRecord(base) || !isRecord(override)) return structuredClone(override);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(override)) {
    // defineProperty: assigning a key named "__proto__" would replace the prototype, not add the key.
    const merged = deepMerge(Object.hasOwn(base, k) ? base[k] : undefined, v);
    Object.defineProperty(out, k, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
