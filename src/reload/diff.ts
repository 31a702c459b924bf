import type { GatewayConfig } from '../config/types';

export interface ConfigChange {
  kind: 'route' | 'service' | 'setting';
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** For a changed route or service: the settings that differ, as dotted paths. */
  fields?: string[];
  /** With `values` asked for: each changed field's old and new value (JSON text; undefined: unset). */
  values?: FieldValues[];
}

export interface FieldValues {
  field: string;
  before: string | undefined;
  after: string | undefined;
}

/** Every leaf of an object as `path → JSON text`; lists are compared whole. */
function leaves(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

function changedFields(a: unknown, b: unknown): string[] {
  const la = leaves(a, '', new Map());
  const lb = leaves(b, '', new Map());
  const fields = new Set<string>();
  for (const [k, v] of la) if (lb.get(k) !== v) fields.add(k);
  for (const k of lb.keys()) if (!la.has(k)) fields.add(k);
  return [...fields].sort();
}

function valuesOf(a: unknown, b: unknown, fields: string[]): FieldValues[] {
  const la = leaves(a, '', new Map());
  const lb = leaves(b, '', new Map());
  return fields.map((field) => ({ field, before: la.get(field), after: lb.get(field) }));
}

function diffNamed<T>(kind: 'route' | 'service', a: Map<string, T>, b: Map<string, T>, withValues: boolean): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const [name, before] of a) {
    const after = b.get(name);
    if (after === undefined) changes.push({ kind, name, change: 'removed' });
    else {
      const fields = changedFields(before, after);
      if (fields.length) changes.push({ kind, name, change: 'changed', fields, ...(withValues ? { values: valuesOf(before, after, fields) } : {}) });
    }
  }
  for (const name of b.keys()) if (!a.has(name)) changes.push({ kind, name, change: 'added' });
  return changes;
}

/**
 * What changed from one resolved config to another: routes and services by name, other settings
 * by path. `values` adds each changed field's old and new value: only for configs whose secrets
 * were masked first (the reload log asks for the fields alone).
 */
export function diffConfigs(before: GatewayConfig, after: GatewayConfig, options: { values?: boolean } = {}): ConfigChange[] {
  const withValues = options.values === true;
  const { routes: ra, services: sa, ...restA } = before;
  const { routes: rb, services: sb, ...restB } = after;
  return [
    ...diffNamed('route', new Map(ra.map((r) => [r.name, r])), new Map(rb.map((r) => [r.name, r])), withValues),
    ...diffNamed('service', new Map(Object.entries(sa)), new Map(Object.entries(sb)), withValues),
    ...changedFields(restA, restB).map((name): ConfigChange => ({ kind: 'setting', name, change: 'changed', ...(withValues ? { values: valuesOf(restA, restB, [name]) } : {}) })),
  ];
}

/** A field whose value is a credential by its name: its values are never printed, even masked. */
const SECRET_FIELD = /(secret|passw(or)?d|token|credential|api[-_]?key)$/i;

function shown(value: string | undefined): string {
  return value === undefined ? '(unset)' : value;
}

/** `  field: old → new`, one line per changed field, secrets as "changed". */
function valueLines(values: FieldValues[], indent: string): string[] {
  return values.map(({ field, before, after }) => {
    const last = field.slice(field.lastIndexOf('.') + 1);
    return SECRET_FIELD.test(last) ? `${indent}${field}: (a secret: changed, not shown)` : `${indent}${field}: ${shown(before)} → ${shown(after)}`;
  });
}

export function formatChanges(changes: ConfigChange[]): string {
  if (changes.length === 0) return 'no changes\n';
  const lines: string[] = [];
  for (const c of changes) {
    lines.push(`${c.kind} ${c.name}: ${c.change}${c.fields ? ` (${c.fields.join(', ')})` : ''}`);
    if (c.values && c.kind !== 'setting') lines.push(...valueLines(c.values, '  '));
    else if (c.values) lines.push(...valueLines(c.values, '  ').map((l) => l.replace(`  ${c.name}: `, '  ')));
  }
  return lines.join('\n') + '\n';
}
