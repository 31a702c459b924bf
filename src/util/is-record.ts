/** A plain JSON object (not null, not a list): what parsed YAML or JSON mappings are. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
