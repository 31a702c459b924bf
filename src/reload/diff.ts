import type { GatewayConfig } from '../config/types';

export interface ConfigChange {
  kind: 'route' | 'service' | 'setting';
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** For a changed route or service: the settings that differ, as dotted paths. */
  fields?: string[];
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

function diffNamed<T>(kind: 'route' | 'service', a: Map<string, T>, b: Map<string, T>): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const [name, before] of a) {
    const after = b.get(name);
    if (after === undefined) changes.push({ kind, name, change: 'removed' });
    else {
      const fields = changedFields(before, after);
      if (fields.length) changes.push({ kind, name, change: 'changed', fields });
    }
  }
  for (const name of b.keys()) if (!a.has(name)) changes.push({ kind, name, change: 'added' });
  return changes;
}

/** What changed from one resolved config to another: routes and services by name, other settings by path. */
export function diffConfigs(before: GatewayConfig, after: GatewayConfig): ConfigChange[] {
  const { routes: ra, services: sa, ...restA } = before;
  const { routes: rb, services: sb, ...restB } = after;
  return [
    ...diffNamed('route', new Map(ra.map((r) => [r.name, r])), new Map(rb.map((r) => [r.name, r]))),
    ...diffNamed('service', new Map(Object.entries(sa)), new Map(Object.entries(sb))),
    ...changedFields(restA, restB).map((name): ConfigChange => ({ kind: 'setting', name, change: 'changed' })),
  ];
}

export function formatChanges(changes: ConfigChange[]): string {
  if (changes.length === 0) return 'no changes\n';
  return changes.map((c) => `${c.kind} ${c.name}: ${c.change}${c.fields ? ` (${c.fields.join(', ')})` : ''}`).join('\n') + '\n';
}
