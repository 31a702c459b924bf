import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigProblem } from './errors';
import { SourceMap, escapePointerToken } from './source-map';

export type Env = Record<string, string | undefined>;

/** process.env over the `.env` file's values: a variable set in the environment always wins. */
export function environmentWithDotEnv(env: Env = process.env, dotEnvFile = '.env'): Env {
  if (!existsSync(dotEnvFile)) return env;
  const fromFile = parseEnv(readFileSync(dotEnvFile, 'utf8')) as Env;
  return { ...fromFile, ...env };
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value. Placeholders that are not variable
 * names (`${request.id}`, `${env.NAME}`) are left for the transform stage.
 *
 * Walks with an explicit stack and visits each collection once: a node repeated by YAML aliases is
 * one object, so a second visit would expand the text a variable brought in (`${` in its value)
 * again, and a deep chain of aliases would overflow the call stack.
 */
export function interpolate(document: unknown, env: Env, file: string, sourceMap: SourceMap): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const expand = (value: string, pointer: string): string =>
    value.replace(REFERENCE, (whole, name: string, fallback: string | undefined) => {
      const set = env[name];
      if (set !== undefined && set !== '') return set;
      if (fallback !== undefined) return fallback;
      problems.push({
        file,
        ...sourceMap.valueAt(pointer),
        severity: 'error',
        pointer,
        message: `environment variable "${name}" is not set; set it, or give a default: \${${name}:-value}`,
      });
      return whole;
    });
  if (typeof document === 'string') return problems; // a file that is one string: the schema refuses it
  const visited = new Set<object>();
  const pending: { node: unknown; pointer: string }[] = [{ node: document, pointer: '' }];
  while (pending.length) {
    const { node, pointer } = pending.pop()!;
    if (node === null || typeof node !== 'object' || visited.has(node)) continue;
    visited.add(node);
    const record = node as Record<string, unknown>;
    const keys = Array.isArray(node) ? node.map((_, i) => String(i)) : Object.keys(record);
    for (const key of keys) {
      const childPointer = `${pointer}/${escapePointerToken(key)}`;
      const child = record[key];
      if (typeof child === 'string') {
        if (child.includes('${')) record[key] = expand(child, childPointer);
      } else pending.push({ node: child, pointer: childPointer });
    }
  }
  return problems;
}

type Parser = (text: string) => { value: unknown } | { error: string };

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser =>
  (text) => {
    const n = Number(text);
    return /^\d+$/.test(text.trim()) && n >= min && n <= max ? { value: n } : { error: `must be a whole number from ${min} to ${max}` };
  };
const boolean: Parser = (text) => {
  const t = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return { value: true };
  if (['false', '0', 'no', 'off'].includes(t)) return { value: false };
  return { error: 'must be true or false' };
};
const nonEmpty: Parser = (text) => (text.trim() ? { value: text.trim() } : { error: 'must not be empty' });
const seconds: Parser = (text) => {
  const n = Number(text);
  return /^\d+(\.\d+)?$/.test(text.trim()) && n > 0 ? { value: `${Math.round(n * 1000)}ms` } : { error: 'must be a number of seconds, e.g. 30' };
};
/** A duration as routes.yaml writes it (`5s`, `250ms`), or a bare number of seconds. */
const duration: Parser = (text) => {
  const t = text.trim();
  if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(t)) return { value: t };
  return seconds(t);
};
const workerCount: Parser = (text) => (text.trim() === 'auto' ? { value: 'auto' } : integer(1, 256)(text));
const oneOf =
  (...allowed: string[]): Parser =>
  (text) =>
    allowed.includes(text.trim()) ? { value: text.trim() } : { error: `must be one of ${allowed.join(', ')}` };
/** A comma-separated list (`10.0.0.10,10.0.0.11:5353`). */
const commaList: Parser = (text) => {
  const items = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return items.length > 0 ? { value: items } : { error: 'must be a comma-separated list, e.g. 10.0.0.10,10.0.0.11:5353' };
};
const jsonStringArray: Parser = (text) => {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return { value: parsed };
  } catch {
    /* reported below */
  }
  return { error: 'must be a JSON array of strings, e.g. ["http://localhost:3000"]' };
};
const url: Parser = (text) => {
  try {
    new URL(text.trim());
    return { value: text.trim() };
  } catch {
    return { error: 'must be a URL' };
  }
};

/** Every documented variable, the place in routes.yaml it replaces, and how its text is read. */
export const ENV_OVERRIDES: { variable: string; pointers: string[]; parse: Parser; also?: Record<string, unknown> }[] = [
  { variable: 'HOST', pointers: ['/gateway/host'], parse: nonEmpty },
  { variable: 'PORT', pointers: ['/gateway/port'], parse: integer(1, 65535) },
  { variable: 'MANAGEMENT_PORT', pointers: ['/gateway/managementPort'], parse: integer(0, 65535) },
  { variable: 'MANAGEMENT_HOST', pointers: ['/gateway/managementHost'], parse: nonEmpty },
  { variable: 'ENVIRONMENT', pointers: ['/gateway/environment'], parse: nonEmpty },
  { variable: 'REQUEST_TIMEOUT', pointers: ['/defaults/timeout'], parse: seconds },
  { variable: 'WORKERS', pointers: ['/gateway/workers'], parse: workerCount },
  { variable: 'SHUTDOWN_DELAY', pointers: ['/gateway/shutdownDelay'], parse: duration },
  { variable: 'DRAIN_TIMEOUT', pointers: ['/gateway/drainTimeout'], parse: duration },
  { variable: 'DNS_SERVERS', pointers: ['/gateway/dnsServers'], parse: commaList },
  { variable: 'MAX_CONCURRENT_REQUESTS', pointers: ['/gateway/maxConcurrentRequests'], parse: integer(1) },
  { variable: 'MAX_CONCURRENT_REQUESTS_PER_CLIENT', pointers: ['/gateway/maxConcurrentRequestsPerClient'], parse: integer(0) },
  { variable: 'LOAD_BALANCER__ENABLED', pointers: ['/loadBalancing/enabled'], parse: boolean },
  {
    variable: 'LOAD_BALANCER__ALGORITHM',
    pointers: ['/loadBalancing/algorithm'],
    parse: oneOf('round_robin', 'weighted_round_robin', 'least_connections'),
  },
  { variable: 'AUTHENTICATION__ENABLED', pointers: ['/auth/enabled'], parse: boolean },
  { variable: 'AUTHENTICATION__JWT_SECRET_KEY', pointers: ['/auth/jwt/secret'], parse: nonEmpty },
  { variable: 'RATE_LIMITING__ENABLED', pointers: ['/rateLimiting/enabled'], parse: boolean },
  { variable: 'RATE_LIMITING__DEFAULT_REQUESTS_PER_MINUTE', pointers: ['/defaults/rateLimit/requestsPerMinute'], parse: integer(1) },
  { variable: 'RATE_LIMITING__REDIS_URL', pointers: ['/rateLimiting/redisUrl'], parse: url, also: { '/rateLimiting/store': 'redis' } },
  { variable: 'CORS__ENABLED', pointers: ['/cors/enabled'], parse: boolean },
  { variable: 'CORS__ALLOW_ORIGINS', pointers: ['/cors/origins'], parse: jsonStringArray },
  { variable: 'MONITORING__METRICS_ENABLED', pointers: ['/monitoring/metrics'], parse: boolean },
  { variable: 'MONITORING__LOG_REQUESTS', pointers: ['/monitoring/logRequests'], parse: boolean },
];

function setAt(document: Record<string, unknown>, pointer: string, value: unknown): void {
  const tokens = pointer.split('/').slice(1);
  let node: Record<string, unknown> = document;
  for (const token of tokens.slice(0, -1)) {
    const next = node[token];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[token] = {};
    node = node[token] as Record<string, unknown>;
  }
  node[tokens[tokens.length - 1]] = value;
}

/** `SERVICES__SAMPLE_SERVICE__HOST` names the service `sample-service` or `sample_service`. */
export function serviceEnvName(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

/**
 * Applies the documented environment variables over the document. A malformed value is a problem
 * that names the variable and points at the setting it would have replaced.
 */
export function applyEnvOverrides(document: unknown, env: Env, file: string, sourceMap: SourceMap): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return problems;
  const doc = document as Record<string, unknown>;
  const report = (pointer: string, message: string, severity: 'error' | 'warning' = 'error') => problems.push({ file, ...sourceMap.valueAt(pointer), severity, pointer, message });

  for (const o of ENV_OVERRIDES) {
    const text = env[o.variable];
    if (text === undefined || text === '') continue;
    const parsed = o.parse(text);
    if ('error' in parsed) {
      report(o.pointers[0], `${o.variable}=${JSON.stringify(text)} ${parsed.error}; fix or unset ${o.variable}`);
      continue;
    }
    for (const p of o.pointers) setAt(doc, p, parsed.value);
    for (const [p, v] of Object.entries(o.also ?? {})) setAt(doc, p, v);
  }

  const services = doc.services;
  const byEnvName = new Map<string, string>();
  if (services !== null && typeof services === 'object' && !Array.isArray(services)) {
    for (const name of Object.keys(services)) byEnvName.set(serviceEnvName(name), name);
  }
  for (const [variable, text] of Object.entries(env)) {
    const m = /^SERVICES__(.+)__(URLS|HOST|PORT|DNS)$/.exec(variable);
    if (!m || text === undefined || text === '') continue;
    const name = byEnvName.get(m[1]);
    if (name === undefined) {
      report('/services', `${variable} names no service of this file (services: ${[...byEnvName.values()].join(', ')}); it is ignored`, 'warning');
      continue;
    }
    const pointer = `/services/${escapePointerToken(name)}/instances`;
    const service = (services as Record<string, Record<string, unknown>>)[name];
    if (service === null || typeof service !== 'object') continue;
    if (m[2] === 'URLS') {
      const urls = text
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      const bad = urls.find((u) => !/^https?:\/\/[^/]+/.test(u));
      if (urls.length === 0 || bad !== undefined) {
        report(pointer, `${variable}=${JSON.stringify(text)} must be a comma-separated list of http(s) URLs; fix or unset ${variable}`);
        continue;
      }
      service.instances = urls;
      // A list of URLs is a fixed list: it replaces discovery too.
      delete service.discovery;
      continue;
    }
    if (m[2] === 'DNS') {
      // The service's instances are found under this name instead (Compose --scale, a Kubernetes
      // headless Service); the port and scheme stay those of the first instance written.
      const first: unknown = Array.isArray(service.instances) ? service.instances[0] : undefined;
      const raw = first !== null && typeof first === 'object' ? (first as Record<string, unknown>).url : first;
      let port = 0;
      let scheme = 'http';
      try {
        const u = new URL(String(raw));
        scheme = u.protocol === 'https:' ? 'https' : 'http';
        port = u.port === '' ? 0 : Number(u.port);
      } catch {
        /* no instance written: the scheme's port */
      }
      const prior = service.discovery !== null && typeof service.discovery === 'object' ? (service.discovery as Record<string, unknown>) : {};
      service.discovery = { port, scheme, ...prior, dns: text.trim() };
      delete service.instances;
      continue;
    }
    if (m[2] === 'PORT') {
      const parsed = integer(1, 65535)(text);
      if ('error' in parsed) {
        report(pointer, `${variable}=${JSON.stringify(text)} ${parsed.error}; fix or unset ${variable}`);
        continue;
      }
    } else if (!/^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:.]+\]$/.test(text.trim())) {
      report(pointer, `${variable}=${JSON.stringify(text)} must be a host name or address; fix or unset ${variable}`);
      continue;
    }
    const discovery = service.discovery;
    if (discovery !== null && typeof discovery === 'object' && typeof (discovery as Record<string, unknown>).dns === 'string' && (discovery as Record<string, unknown>).dns !== '') {
      // A discovered service: HOST is the name looked up, PORT the port of its addresses.
      service.discovery = { ...(discovery as Record<string, unknown>), ...(m[2] === 'HOST' ? { dns: text.trim() } : { port: Number(text.trim()) }) };
      continue;
    }
    if (!Array.isArray(service.instances)) continue;
    service.instances = service.instances.map((instance: unknown) => {
      const isObject = instance !== null && typeof instance === 'object';
      const raw = isObject ? (instance as Record<string, unknown>).url : instance;
      if (typeof raw !== 'string') return instance;
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return instance;
      }
      if (m[2] === 'HOST') u.hostname = text.trim();
      else u.port = text.trim();
      const rewritten = u.origin;
      return isObject ? { ...instance, url: rewritten } : rewritten;
    });
  }
  return problems;
}
