/**
 * What HTTP lets a header name and value hold (RFC 9110 §5.1, §5.5), checked when a config is
 * loaded: node and undici refuse anything else on every request, which would turn a typo in
 * routes.yaml into a 502 blamed on the upstream.
 */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Horizontal tab, visible ASCII, space and obs-text (U+0080–U+00FF), as node's own check. */
const FIELD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/u;

/** How a character is named in a message: its code point, and its usual name when it has one. */
function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const names: Record<number, string> = { 0: 'NUL', 10: 'LF, a line break', 13: 'CR, a line break', 27: 'ESC', 32: 'a space', 127: 'DEL' };
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (Object.hasOwn(names, code)) return `${hex} (${names[code]})`;
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return `${hex} (a control character)`;
  return `"${char}" (${hex})`;
}

/** Why `name` cannot be a header name, or undefined when it can. */
export function headerNameProblem(name: string): string | undefined {
  if (TOKEN.test(name)) return undefined;
  if (name === '') return 'a header name must not be empty';
  const bad = [...name].find((c) => !TOKEN.test(c)) ?? '';
  return `header name "${JSON.stringify(name).slice(1, -1)}" holds ${describeChar(bad)}; header names are letters, digits and !#$%&'*+-.^_\`|~ only`;
}

/** Why `value` cannot be a header value, or undefined when it can. */
export function headerValueProblem(value: string): string | undefined {
  const bad = FIELD_VALUE_CHAR.exec(value)?.[0];
  if (bad === undefined) return undefined;
  return `header value ${JSON.stringify(value)} holds ${describeChar(bad)}; header values are printable text, spaces and tabs only (check the \${VAR} values it is built from)`;
}
