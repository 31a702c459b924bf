import { createHash } from 'node:crypto';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { ConfigProblem, didYouMean } from './errors';
import { SourceMap, escapePointerToken } from './source-map';
import { SchemaNode, routesSchema, routesSchemaText } from './schema';
import { DURATION_PATTERN, SIZE_PATTERN } from './units';

/** How the routes schema is compiled, at build time and (from src/, in tests) at run time alike. */
export const ROUTES_AJV_OPTIONS: Options = { allErrors: true, strict: true, strictTypes: false, verbose: true };

/** Ties a precompiled validator to the exact schema text it was built from. */
export function routesSchemaHash(): string {
  return createHash('sha256').update(routesSchemaText()).digest('hex');
}

let compiled: ValidateFunction | undefined;

/**
 * The routes validator. `npm run build` writes it out as plain code (dist/config/routes-validator.js,
 * by scripts/build-config-validator.js): compiling the schema with ajv at start-up cost ~25 MiB of
 * resident memory and most of the start time, for the same function. Without that file (running
 * from src/), or when the schema changed since the build, ajv compiles it here.
 */
function validator(): ValidateFunction {
  if (!compiled) {
    try {
      const built = require('./routes-validator') as { schemaHash: string; validate: ValidateFunction };
      if (built.schemaHash === routesSchemaHash()) compiled = built.validate;
    } catch {
      /* not built: compiled below */
    }
    if (!compiled) {
      const Ajv2020 = (require('ajv/dist/2020') as typeof import('ajv/dist/2020')).default;
      compiled = new Ajv2020(ROUTES_AJV_OPTIONS).compile(routesSchema());
    }
  }
  return compiled;
}

/** What a failed `pattern` means to an operator, keyed by the pattern text of the schema. */
const PATTERN_MESSAGES: Record<string, string> = {
  [DURATION_PATTERN]: 'is not a duration; write a number with ms, s, m or h (e.g. 250ms, 30s, 5m)',
  [`^$|${DURATION_PATTERN}`]: 'is not a duration; write a number with ms, s, m or h (e.g. 12h), or leave it empty',
  [SIZE_PATTERN]: 'is not a size; write a number with b, kb, mb or gb (e.g. 512kb, 10mb)',
  '^https?://': 'is not an instance URL; write http://host:port or https://host:port',
  '^/': 'must start with "/"',
  '^[A-Za-z0-9][A-Za-z0-9_.-]*$': 'is not a valid route name; use letters, digits, ".", "_" and "-"',
  '^[a-z][a-z0-9_-]*$': 'is not a valid service name; use lowercase letters, digits, "_" and "-", starting with a letter',
  '^(ip|user|global|header:[A-Za-z0-9-]+)$': 'is not a rate-limit key; use ip, user, global or header:<Name>',
  ['^$|^(?=.{1,253}$)(_?[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\\.(_?[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?))*\\.?$']:
    'is not a DNS name; write labels of letters, digits and "-" joined by "." (e.g. samples.lab.svc.cluster.local, or _http._tcp.samples.lab for SRV)',
  ['^(\\d{1,3}(\\.\\d{1,3}){3}(:\\d{1,5})?|\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$']:
    'is not a DNS server address; write an IP address, optionally with a port (10.0.0.10, 10.0.0.10:5353, [fd00::10]:53)',
};

/** A value as a message shows it: a list or mapping of any size in a line of at most ~80 characters. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return typeof value === 'object' && value !== null && text.length > 80 ? `${text.slice(0, 60)}…` : text;
}

function describeType(node: SchemaNode): string {
  if (node.type === 'object') return 'a mapping';
  if (node.type === 'array') return 'a list';
  if (node.type === 'integer') return 'a whole number';
  return `a ${node.type}`;
}

/** What a value that fits no `oneOf` branch should have been, by where it stands. */
function oneOfExpectation(pointer: string): string {
  if (/\/trustProxy$/.test(pointer)) return 'a hop count (e.g. 1) or a list of addresses, CIDRs, loopback, linklocal or uniquelocal (e.g. [loopback])';
  if (/\/instances\/\d+$/.test(pointer)) return 'an instance URL ("http://host:port") or a mapping { url, weight }';
  return 'one of the allowed forms';
}

/** What a list or mapping that must not be empty should hold, by where it stands. */
function emptyMessage(pointer: string): string {
  if (pointer === '/routes') return 'must list at least one route';
  if (pointer === '/services') return 'must define at least one service';
  if (/\/instances$/.test(pointer)) return 'must list at least one instance URL';
  return 'must not be empty';
}

function problemFor(err: ErrorObject, file: string, map: SourceMap): ConfigProblem | undefined {
  const pointer = err.instancePath;
  const at = (p: string, key = false): Pick<ConfigProblem, 'line' | 'column' | 'pointer'> => ({
    ...(key ? map.keyAt(p) : map.valueAt(p)),
    pointer: p,
  });
  const base = { file, severity: 'error' as const };
  const schema = (err.parentSchema ?? {}) as SchemaNode;
  switch (err.keyword) {
    case 'additionalProperties': {
      const name = String(err.params.additionalProperty);
      const allowed = Object.keys(schema.properties ?? {});
      const hint = didYouMean(name, allowed) || (allowed.length ? ` (allowed here: ${allowed.join(', ')})` : '');
      return { ...base, ...at(`${pointer}/${escapePointerToken(name)}`, true), message: `unknown property "${name}"${hint}` };
    }
    case 'required':
      return { ...base, ...at(pointer), message: `missing required property "${String(err.params.missingProperty)}"` };
    case 'type': {
      // A bare number where a duration or size is expected: say which unit to add.
      const known = typeof schema.pattern === 'string' ? PATTERN_MESSAGES[schema.pattern] : undefined;
      if (known && typeof err.data === 'number') return { ...base, ...at(pointer), message: `${show(err.data)} ${known}` };
      return { ...base, ...at(pointer), message: `must be ${describeType(schema)}, not ${show(err.data)}` };
    }
    case 'enum': {
      const allowed = (err.params.allowedValues as unknown[]).map(String);
      return {
        ...base,
        ...at(pointer),
        message: `${show(err.data)} is not one of ${allowed.join(', ')}${didYouMean(String(err.data), allowed)}`,
      };
    }
    case 'const':
      if (pointer === '/version') {
        return { ...base, ...at(pointer), message: `${show(err.data)} is not a format this gateway reads; write version: ${show(err.params.allowedValue)}` };
      }
      return { ...base, ...at(pointer), message: `must be ${show(err.params.allowedValue)}, not ${show(err.data)}` };
    case 'pattern': {
      const known = PATTERN_MESSAGES[String(err.params.pattern)];
      return { ...base, ...at(pointer), message: `${show(err.data)} ${known ?? `must match ${String(err.params.pattern)}`}` };
    }
    case 'propertyNames': {
      const name = String(err.params.propertyName);
      const p = `${pointer}/${escapePointerToken(name)}`;
      const inner = PATTERN_MESSAGES[String((schema.propertyNames as SchemaNode | undefined)?.pattern)] ?? 'is not a valid name';
      return { ...base, ...at(p, true), message: `"${name}" ${inner}` };
    }
    case 'minimum':
      if (/\/weight$/.test(pointer)) {
        return { ...base, ...at(pointer), message: `weight ${show(err.data)} must be at least 1; remove the instance to send it no traffic` };
      }
      return { ...base, ...at(pointer), message: `${show(err.data)} ${err.message ?? 'is out of range'}` };
    case 'maximum':
    case 'exclusiveMinimum':
      return { ...base, ...at(pointer), message: `${show(err.data)} ${err.message ?? 'is out of range'}` };
    case 'minItems':
    case 'minProperties':
      return { ...base, ...at(pointer), message: emptyMessage(pointer) };
    case 'minLength':
      return { ...base, ...at(pointer), message: 'must not be empty' };
    case 'oneOf':
      return { ...base, ...at(pointer), message: `must be ${oneOfExpectation(pointer)}, not ${show(err.data)}` };
    default:
      return { ...base, ...at(pointer), message: err.message ?? err.keyword };
  }
}

/**
 * Keeps only the errors of the `oneOf` branch whose type fits the value, so a bad instance object
 * is not also reported as "must be a string". A `oneOf` error is dropped only for errors inside the
 * same value: every item of a list shares the schema path, so comparing schema paths alone let one
 * bad item hide the `oneOf` error of another.
 */
function pruneOneOf(errors: ErrorObject[]): ErrorObject[] {
  const branchMismatch = (e: ErrorObject) => e.keyword === 'type' && /\/oneOf\/\d+\/type$/.test(e.schemaPath);
  const kept = errors.filter((e) => !branchMismatch(e) && !(e.propertyName !== undefined && e.keyword !== 'propertyNames'));
  return kept.filter((e) => {
    if (e.keyword !== 'oneOf') return true;
    const prefix = e.schemaPath.replace(/\/oneOf$/, '/oneOf/');
    const inside = (other: ErrorObject) => other.instancePath === e.instancePath || other.instancePath.startsWith(`${e.instancePath}/`);
    return !kept.some((other) => other !== e && other.schemaPath.startsWith(prefix) && inside(other));
  });
}

/** Schema problems of a document, each at its line and column. */
export function validateAgainstSchema(document: unknown, file: string, map: SourceMap): ConfigProblem[] {
  const validate = validator();
  if (validate(document)) return [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const err of pruneOneOf(validate.errors ?? [])) {
    const p = problemFor(err, file, map);
    if (!p) continue;
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems;
}
