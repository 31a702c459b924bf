/**
 * The fixed placeholders transform values may use. No expressions, no code: a value is literal text
 * with `${name}` holes, each one of these names. `${env.NAME}` is filled in when the config is
 * loaded; the others per request.
 */
export const REQUEST_PLACEHOLDERS = ['request.id', 'client.ip', 'route.name', 'service.name', 'user.sub'] as const;
export type RequestPlaceholder = (typeof REQUEST_PLACEHOLDERS)[number];

/** `${...}` holes; `${VAR}` without a dot was already replaced by the loader's env interpolation. */
const HOLE = /\$\{([^}]*)\}/g;
const ENV_NAME = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** Literal text and placeholders in order; literals are strings wrapped as `{ text }` to tell them apart. */
export type Template = readonly ({ text: string } | { placeholder: RequestPlaceholder })[];

/** Placeholders in `value` that are not part of the fixed set (for lint). */
export function unknownPlaceholders(value: string): string[] {
  const unknown: string[] = [];
  for (const m of value.matchAll(HOLE)) {
    const name = m[1];
    if (!(REQUEST_PLACEHOLDERS as readonly string[]).includes(name) && !ENV_NAME.test(name)) unknown.push(name);
  }
  return unknown;
}

/** `value` with every `${env.NAME}` replaced by the variable's value (empty when unset). */
export function resolveEnvPlaceholders(value: string, env: Record<string, string | undefined>): string {
  return value.replace(HOLE, (hole, name: string) => {
    const envName = ENV_NAME.exec(name)?.[1];
    return envName === undefined ? hole : (env[envName] ?? '');
  });
}

/**
 * Splits `value` (env placeholders already resolved at load time) into literal text and request
 * placeholders. Runs once per config; requests only walk the parts.
 */
export function parseTemplate(value: string): Template {
  const parts: ({ text: string } | { placeholder: RequestPlaceholder })[] = [];
  let text = '';
  let last = 0;
  for (const m of value.matchAll(HOLE)) {
    text += value.slice(last, m.index);
    last = m.index + m[0].length;
    const name = m[1];
    if ((REQUEST_PLACEHOLDERS as readonly string[]).includes(name)) {
      if (text) parts.push({ text });
      text = '';
      parts.push({ placeholder: name as RequestPlaceholder });
    } else text += m[0]; // lint refuses unknown names; never evaluate them
  }
  text += value.slice(last);
  if (text || parts.length === 0) parts.push({ text });
  return parts;
}
