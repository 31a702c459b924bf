import { discoveryRecordType } from './discovery-type';
import { createPublicKey } from 'node:crypto';
import { ConfigProblem, didYouMean } from './errors';
import { SourceMap, escapePointerToken } from './source-map';
import { GatewayConfig, HeaderOps, HttpMethod, RouteConfig, TransformPolicy } from './types';
import { REQUEST_PLACEHOLDERS, unknownPlaceholders } from './placeholders';
import { requestSchemaProblem, VALIDATE_KEY } from '../validation/request-schema';
import { parseDuration, parseSize } from './units';
import { checkRangeEntry } from '../net/ip-range';
import { isManagementPath } from '../routing/management-paths';
import { headerNameProblem, headerValueProblem } from './http-fields';
import { checkServiceOpenApi } from './service-openapi-checks';

type Report = (pointer: string, message: string, options?: { key?: boolean; severity?: 'error' | 'warning'; needsEnvironment?: true }) => void;

const ALL_METHODS: HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function arr<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function checkPrefix(route: RouteConfig, i: number, report: Report): void {
  const p = `/routes/${i}/path`;
  const path = route.path;
  if (typeof path !== 'string' || path === '') return;
  if (!path.startsWith('/')) return report(p, `"${path}" must start with "/" (e.g. "/${path}")`);
  if (path.length > 1 && path.endsWith('/')) {
    return report(p, `"${path}" must not end with "/"; write "${path.replace(/\/+$/, '')}" (it matches the same requests)`);
  }
  if (/[?#\s]/.test(path) || path.includes('//')) return report(p, `"${path}" must be a plain path prefix (no query, fragment, spaces or "//")`);
  if (path.split('/').some((s) => s === '.' || s === '..')) return report(p, `"${path}" must not contain "." or ".." segments`);
  const reserved = isManagementPath(path);
  if (reserved) {
    report(p, `"${path}" is the gateway's own path ${reserved === '/' ? '"/"' : `"${reserved}"`}; choose another prefix`);
  }
}

function checkRewrite(route: RouteConfig, i: number, report: Report): void {
  const rewrite = route.rewrite;
  if (rewrite === undefined || typeof rewrite !== 'string') return;
  const p = `/routes/${i}/rewrite`;
  if (!rewrite.startsWith('/')) return report(p, `"${rewrite}" must start with "/" (write "/${rewrite}")`);
  if (/[?#\s]/.test(rewrite)) report(p, `"${rewrite}" must be a plain path (no query, fragment or spaces)`);
}

/** A service takes its instances from exactly one place: `instances` or `discovery`. */
function checkInstanceSource(service: { instances?: unknown; discovery?: unknown }, sp: string, written: boolean, report: Report): void {
  // Instances that are not a list, or an empty list written out, are the schema's to report.
  const instances = service.instances;
  if (!Array.isArray(instances) ? instances !== undefined : written && instances.length === 0) return;
  const listed = Array.isArray(instances) && instances.length > 0;
  const d = service.discovery && typeof service.discovery === 'object' ? (service.discovery as Record<string, unknown>) : {};
  const discovered = typeof d.dns === 'string' && d.dns !== '';
  if (listed && discovered) {
    return report(`${sp}/discovery/dns`, 'a service takes its instances from `instances` or from `discovery`, not both: remove one of them');
  }
  if (!listed && !discovered) {
    return report(sp, 'the service has no instances: list them in `instances` (e.g. ["http://samples:8081"]) or find them in DNS with `discovery: { dns: NAME, port: PORT }`', { key: true });
  }
  if (!discovered) return;
  checkPositiveDuration(d.refresh, `${sp}/discovery/refresh`, report);
  checkPositiveDuration(d.minRefresh, `${sp}/discovery/minRefresh`, report);
  checkPositiveDuration(d.timeout, `${sp}/discovery/timeout`, report);
  const refresh = typeof d.refresh === 'string' ? parseDuration(d.refresh) : undefined;
  const minRefresh = typeof d.minRefresh === 'string' ? parseDuration(d.minRefresh) : undefined;
  if (refresh !== undefined && minRefresh !== undefined && minRefresh > refresh) {
    report(
      `${sp}/discovery/minRefresh`,
      `minRefresh (${String(d.minRefresh)}) is longer than refresh (${String(d.refresh)}): lookups would never come sooner than the longest wait; make minRefresh shorter`,
    );
  }
  if (discoveryRecordType(d.type, String(d.dns)) === 'SRV' && !String(d.dns).startsWith('_')) {
    report(`${sp}/discovery/dns`, `"${String(d.dns)}" is not an SRV name: SRV names start with _service._proto, e.g. _http._tcp.samples.lab`, { severity: 'warning' });
  }
}

function checkPositiveDuration(value: unknown, pointer: string, report: Report, allowZero = false): void {
  if (typeof value !== 'string') return;
  const ms = parseDuration(value);
  if (ms === undefined) return; // the schema pattern already said so
  if (ms === 0 && !allowZero) report(pointer, `"${value}" must be longer than 0`);
}

function checkSize(value: unknown, pointer: string, report: Report): void {
  if (typeof value !== 'string') return;
  const bytes = parseSize(value);
  if (bytes === 0) report(pointer, `"${value}" must be larger than 0`);
}

function checkRanges(list: unknown, pointer: string, report: Report): void {
  arr<unknown>(list).forEach((entry, j) => {
    if (typeof entry !== 'string') return;
    const why = checkRangeEntry(entry);
    if (why) report(`${pointer}/${j}`, why);
  });
}

function hostOf(route: RouteConfig): string {
  return typeof route.host === 'string' ? route.host.toLowerCase() : '';
}

function methodsOf(route: RouteConfig): HttpMethod[] {
  return Array.isArray(route.methods) ? route.methods : ALL_METHODS;
}

/**
 * Which route first claimed each (host, path, method): a map lookup per method of a route, so the
 * overlap check grows with the number of routes, not with its square (40k routes took 40 s).
 */
class MethodClaims {
  private readonly firstByKey = new Map<string, number>();

  /** The earlier route claiming `method` of this route's host and path; records `index` when none. */
  first(route: RouteConfig, method: HttpMethod, index: number): number | undefined {
    if (typeof route.path !== 'string') return undefined;
    const key = JSON.stringify([hostOf(route), route.path, method]);
    const first = this.firstByKey.get(key);
    if (first === undefined) this.firstByKey.set(key, index);
    return first;
  }
}

/**
 * Transform values may only use the fixed placeholders, and a header both removed and set is a
 * mistake (remove wins, so the set never happens).
 */
function checkTransform(t: TransformPolicy | undefined, at: string, report: Report): void {
  if (!t || typeof t !== 'object') return;
  const values = (ops: Record<string, unknown> | undefined, pointer: string, areHeaders: boolean) => {
    if (!ops || typeof ops !== 'object') return;
    for (const [name, value] of Object.entries(ops)) {
      if (areHeaders) checkHeaderField(name, value, `${pointer}/${escapePointerToken(name)}`, report);
      if (typeof value !== 'string') continue;
      const unknown = unknownPlaceholders(value);
      if (unknown.length) {
        report(
          `${pointer}/${escapePointerToken(name)}`,
          `unknown placeholder ${unknown.map((u) => `\${${u}}`).join(', ')}; use ${REQUEST_PLACEHOLDERS.map((p) => `\${${p}}`).join(', ')} or \${env.NAME}`,
        );
      }
    }
  };
  const headers = (h: HeaderOps | undefined, pointer: string) => {
    if (!h || typeof h !== 'object') return;
    values(h.set, `${pointer}/set`, true);
    values(h.add, `${pointer}/add`, true);
    checkHeaderNames(h.remove, `${pointer}/remove`, report);
    const removed = arr<string>(h.remove).map((n) => String(n).toLowerCase());
    for (const kind of ['set', 'add'] as const) {
      for (const name of Object.keys(h[kind] ?? {})) {
        if (removed.includes(name.toLowerCase())) {
          report(`${pointer}/${kind}/${escapePointerToken(name)}`, `"${name}" is also in remove, which wins: it is never ${kind === 'set' ? 'set' : 'added'}`, { key: true, severity: 'warning' });
        }
      }
    }
  };
  headers(t.request?.headers, `${at}/request/headers`);
  values(t.request?.query?.set, `${at}/request/query/set`, false);
  headers(t.response?.headers, `${at}/response/headers`);
}

/**
 * A header a transform sets or adds: checked after `${VAR}` and `${env.NAME}` were filled in, since
 * that is what goes on the wire (request placeholders are filled per request with safe values).
 */
function checkHeaderField(name: string, value: unknown, pointer: string, report: Report): void {
  const nameProblem = headerNameProblem(name);
  if (nameProblem) report(pointer, `${nameProblem}; fix the name`, { key: true });
  const valueProblem = typeof value === 'string' ? headerValueProblem(value) : undefined;
  if (valueProblem) report(pointer, valueProblem);
}

function checkHeaderNames(list: unknown, pointer: string, report: Report): void {
  arr<unknown>(list).forEach((name, j) => {
    const why = typeof name === 'string' ? headerNameProblem(name) : undefined;
    if (why) report(`${pointer}/${j}`, `${why}; fix the name`);
  });
}

/** Settings outside transforms that become header names or values of every request or answer. */
function checkOtherHeaderFields(c: GatewayConfig, report: Report): void {
  const claims = c.auth?.forwardClaims;
  if (claims && typeof claims === 'object') {
    for (const name of Object.keys(claims)) {
      const why = headerNameProblem(name);
      if (why) report(`/auth/forwardClaims/${escapePointerToken(name)}`, `${why}; fix the name`, { key: true });
    }
  }
  checkHeaderNames(c.cors?.headers, '/cors/headers', report);
  checkHeaderNames(c.cors?.exposeHeaders, '/cors/exposeHeaders', report);
  arr<unknown>(c.cors?.origins).forEach((origin, j) => {
    const why = typeof origin === 'string' ? headerValueProblem(origin) : undefined;
    if (why) report(`/cors/origins/${j}`, why);
  });
  const csp = c.securityHeaders?.contentSecurityPolicy;
  const why = typeof csp === 'string' ? headerValueProblem(csp) : undefined;
  if (why) report('/securityHeaders/contentSecurityPolicy', why);
}

/** `validate` keys name a method with a body and a subpath; each schema file exists and compiles. */
function checkValidate(route: RouteConfig, i: number, report: Report): void {
  const v = route.validate;
  if (!v || typeof v !== 'object') return;
  for (const [key, file] of Object.entries(v)) {
    const p = `/routes/${i}/validate/${escapePointerToken(key)}`;
    if (!VALIDATE_KEY.test(key)) {
      report(p, `"${key}" must be "<METHOD> <subpath>" with a method that carries a body (POST, PUT, PATCH, DELETE), e.g. "POST /jobs"`, { key: true });
      continue;
    }
    if (typeof file !== 'string') continue;
    const why = requestSchemaProblem(file);
    if (why) report(p, why);
  }
}

/** What a public key can verify, by its type; a mismatch would refuse every token at runtime. */
const KEY_FAMILIES: Record<string, string[]> = { rsa: ['RS', 'PS'], 'rsa-pss': ['PS'], ec: ['ES'] };

/**
 * Auth settings that would let a route run without the checks it asked for, or refuse every token:
 * a route requiring auth with nothing to verify tokens with, keys that cannot verify the listed
 * algorithms, roles on routes that never see a token, the placeholder secret in production.
 */
function checkAuth(c: GatewayConfig, routes: RouteConfig[], serviceNames: string[], map: SourceMap, report: Report): void {
  const auth = c.auth;
  if (!auth || typeof auth !== 'object' || auth.enabled === false) return;
  const jwt = auth.jwt ?? {};
  const algorithms = arr<string>(jwt.algorithms);
  const hmac = algorithms.filter((a) => a.startsWith('HS'));
  const publicKeyAlgorithms = algorithms.filter((a) => !a.startsWith('HS'));
  const validateWith = auth.validateWith?.enabled === true;

  routes.forEach((r, i) => {
    if (!r || typeof r !== 'object' || r.auth?.required === true) return;
    for (const list of ['roles', 'anyRole'] as const) {
      if (arr(r.auth?.[list]).length === 0) continue;
      const own = `/routes/${i}/auth/${list}`;
      report(
        map.has(own) ? own : `/defaults/auth/${list}`,
        `route "${r.name}" checks ${list} but does not require auth (auth.required: false), so it may see no token; set required: true, or remove ${list}`,
      );
    }
  });

  const firstRequiring = routes.findIndex((r) => r && typeof r === 'object' && r.auth?.required === true);
  if (firstRequiring !== -1 && !jwt.secret && !jwt.publicKey && !jwt.jwksUri && !validateWith) {
    const own = `/routes/${firstRequiring}/auth/required`;
    report(
      map.has(own) || !map.has('/defaults/auth/required') ? own : '/defaults/auth/required',
      `route "${routes[firstRequiring].name}" requires auth but no key is set: set auth.jwt.secret (or AUTHENTICATION__JWT_SECRET_KEY), publicKey or jwksUri`,
      { needsEnvironment: true },
    );
  }
  if (hmac.length && publicKeyAlgorithms.length) {
    report('/auth/jwt/algorithms', `mixes HMAC (${hmac.join(', ')}) with public-key algorithms; list one family only`);
  }
  if (hmac.length && (jwt.publicKey || jwt.jwksUri) && !jwt.secret) {
    report('/auth/jwt/algorithms', `${hmac.join(', ')} ${hmac.length === 1 ? 'needs' : 'need'} auth.jwt.secret; public keys verify RS/ES/PS algorithms only`);
  }
  if (!hmac.length && publicKeyAlgorithms.length && jwt.secret && !jwt.publicKey && !jwt.jwksUri) {
    report(
      '/auth/jwt/algorithms',
      `${publicKeyAlgorithms.join(', ')} ${publicKeyAlgorithms.length === 1 ? 'needs' : 'need'} auth.jwt.publicKey or auth.jwt.jwksUri; a secret verifies HS algorithms only`,
    );
  }
  if (jwt.publicKey && jwt.jwksUri) report('/auth/jwt/jwksUri', 'set either publicKey or jwksUri, not both');
  if (typeof jwt.publicKey === 'string' && jwt.publicKey) {
    try {
      const type = createPublicKey(jwt.publicKey).asymmetricKeyType ?? '';
      const families = KEY_FAMILIES[type] ?? [];
      const unfit = publicKeyAlgorithms.filter((a) => !families.includes(a.slice(0, 2)));
      if (unfit.length) report('/auth/jwt/algorithms', `the ${type ? type.toUpperCase() : 'given'} public key cannot verify ${unfit.join(', ')}`);
    } catch {
      // OpenSSL's reason differs between versions and says little to an operator; the fix does not.
      report('/auth/jwt/publicKey', 'is not a PEM public key; paste the whole "-----BEGIN PUBLIC KEY-----" block with its line breaks (a YAML block scalar, |, keeps them)');
    }
  }
  if (typeof jwt.jwksUri === 'string' && jwt.jwksUri && !/^https?:\/\/[^/\s]+/.test(jwt.jwksUri)) {
    report('/auth/jwt/jwksUri', `"${jwt.jwksUri}" is not an http(s) URL`);
  }
  checkPositiveDuration(jwt.jwksCacheTtl, '/auth/jwt/jwksCacheTtl', report);
  checkPositiveDuration(jwt.jwksRefetchInterval, '/auth/jwt/jwksRefetchInterval', report);
  if (jwt.maxAge) checkPositiveDuration(jwt.maxAge, '/auth/jwt/maxAge', report);
  // .env.example ships a placeholder so that lint runs without secrets; it must never serve.
  if (typeof jwt.secret === 'string' && jwt.secret.startsWith('change-me') && c.gateway?.environment === 'production') {
    report('/auth/jwt/secret', 'is the placeholder of .env.example; set AUTHENTICATION__JWT_SECRET_KEY to a real secret (e.g. openssl rand -base64 48)');
  }

  const vw = auth.validateWith;
  if (validateWith && typeof vw.service === 'string' && !serviceNames.includes(vw.service)) {
    report('/auth/validateWith/service', `unknown service "${vw.service}"${didYouMean(vw.service, serviceNames)}`);
  }
  if (validateWith) {
    checkPositiveDuration(vw.cacheTtl, '/auth/validateWith/cacheTtl', report);
    checkPositiveDuration(vw.timeout, '/auth/validateWith/timeout', report);
  }
}

/**
 * Checks the schema cannot express: cross-references, uniqueness, overlaps, reserved paths, CIDRs.
 * Runs on the resolved config even when the schema found problems, and guards every access, so
 * that one run reports everything.
 */
export function checkSemantics(c: GatewayConfig, file: string, map: SourceMap): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report: Report = (pointer, message, options = {}) =>
    problems.push({
      file,
      ...(options.key ? map.keyAt(pointer) : map.valueAt(pointer)),
      severity: options.severity ?? 'error',
      pointer,
      message,
      ...(options.needsEnvironment ? { needsEnvironment: true as const } : {}),
    });

  const services = c.services && typeof c.services === 'object' ? c.services : {};
  // A Set, never `name in services`: that is also true for "constructor", "toString", "__proto__"…
  const serviceNames = Object.keys(services);
  const knownServices = new Set(serviceNames);
  for (const [name, service] of Object.entries(services)) {
    if (!service || typeof service !== 'object') continue;
    const sp = `/services/${escapePointerToken(name)}`;
    arr<{ url?: unknown; weight?: unknown }>(service.instances).forEach((inst, j) => {
      // The schema already reported URLs that do not start with http(s)://.
      if (!inst || typeof inst !== 'object' || typeof inst.url !== 'string' || !/^https?:\/\//.test(inst.url)) return;
      // Instances written as strings were turned into { url } by resolve: point at what was written.
      const at = `${sp}/instances/${j}`;
      const urlPointer = map.has(`${at}/url`) ? `${at}/url` : at;
      let u: URL;
      try {
        u = new URL(inst.url);
      } catch {
        return report(urlPointer, `"${inst.url}" is not a valid URL`);
      }
      if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username) {
        report(urlPointer, `"${inst.url}" must be scheme://host:port only (no path, query or credentials); put path changes in the route's rewrite`);
      }
    });
    checkInstanceSource(service, sp, map.has(`${sp}/instances`), report);
    const hc = service.healthCheck;
    if (hc && typeof hc === 'object') {
      checkPositiveDuration(hc.interval, `${sp}/healthCheck/interval`, report);
      checkPositiveDuration(hc.timeout, `${sp}/healthCheck/timeout`, report);
    }
  }

  const routes = arr<RouteConfig>(c.routes);
  const firstByName = new Map<string, number>();
  const claims = new MethodClaims();
  routes.forEach((route, i) => {
    if (!route || typeof route !== 'object') return;
    const rp = `/routes/${i}`;
    if (typeof route.service === 'string' && route.service !== '' && serviceNames.length > 0 && !knownServices.has(route.service)) {
      report(`${rp}/service`, `unknown service "${route.service}"${didYouMean(route.service, serviceNames) || ` (services: ${serviceNames.join(', ')})`}`);
    }
    if (typeof route.name === 'string' && route.name !== '') {
      const first = firstByName.get(route.name);
      if (first !== undefined) {
        report(`${rp}/name`, `route name "${route.name}" is already used by /routes/${first} (line ${map.valueAt(`/routes/${first}/name`).line}); names must be unique`);
      } else firstByName.set(route.name, i);
    }
    checkPrefix(route, i, report);
    checkRewrite(route, i, report);
    checkPositiveDuration(route.timeout, `${rp}/timeout`, report);
    checkPositiveDuration(route.streamIdleTimeout, `${rp}/streamIdleTimeout`, report);
    checkSize(route.maxBodySize, `${rp}/maxBodySize`, report);
    if (typeof route.host === 'string' && route.host !== '' && !/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d+)?$/.test(route.host)) {
      report(`${rp}/host`, `"${route.host}" is not a host name (e.g. lab.example.org or *.example.org)`);
    }
    checkRanges(route.ipFilter?.allow, `${rp}/ipFilter/allow`, report);
    checkRanges(route.ipFilter?.deny, `${rp}/ipFilter/deny`, report);
    if (map.has(`${rp}/transform`)) checkTransform(route.transform, `${rp}/transform`, report);
    checkValidate(route, i, report);
    if (route.websocket === true && Array.isArray(route.methods) && !route.methods.includes('GET')) {
      report(`${rp}/methods`, 'a websocket route must allow GET (upgrades are GET requests)');
    }
    // Two routes that would compete for the same requests: the first one declared would always win.
    const overlapped = new Map<number, HttpMethod[]>();
    for (const method of methodsOf(route)) {
      const first = claims.first(route, method, i);
      if (first !== undefined && first !== i) overlapped.set(first, [...(overlapped.get(first) ?? []), method]);
    }
    for (const [k, shared] of overlapped) {
      report(
        `${rp}/path`,
        `route "${route.name}" overlaps route "${routes[k].name}" (/routes/${k}): same path${route.host ? ', host' : ''} and methods ${shared.join(', ')}; split the methods or change the path`,
      );
    }
  });

  const g = c.gateway;
  if (g && typeof g === 'object') {
    if (Array.isArray(g.trustProxy)) checkRanges(g.trustProxy, '/gateway/trustProxy', report);
    checkSize(g.maxBodySize, '/gateway/maxBodySize', report);
    checkSize(g.maxHeaderSize, '/gateway/maxHeaderSize', report);
    checkPositiveDuration(g.headersTimeout, '/gateway/headersTimeout', report);
    checkPositiveDuration(g.drainTimeout, '/gateway/drainTimeout', report, true);
    checkPositiveDuration(g.shutdownDelay, '/gateway/shutdownDelay', report, true);
    checkPositiveDuration(g.requestTimeout, '/gateway/requestTimeout', report, true);
  }
  checkPositiveDuration(c.defaults?.timeout, '/defaults/timeout', report);
  checkRanges(c.ipFilter?.allow, '/ipFilter/allow', report);
  checkRanges(c.ipFilter?.deny, '/ipFilter/deny', report);
  checkRanges(c.ipFilter?.managementAllow, '/ipFilter/managementAllow', report);

  checkAuth(c, routes, serviceNames, map, report);
  checkServiceOpenApi(c, report);

  const rl = c.rateLimiting;
  const limited = rl?.enabled && (rl.global?.enabled || routes.some((r) => r.rateLimit?.enabled));
  if (g && g.workers !== undefined && g.workers !== 1 && limited && rl.store === 'memory') {
    report(
      '/gateway/workers',
      `with more than one worker the memory rate-limit store would count per process (each worker allowing the whole limit); use rateLimiting.store: redis (RATE_LIMITING__REDIS_URL), or workers: 1`,
    );
  }
  if (rl && typeof rl === 'object' && rl.enabled !== false && rl.store === 'redis') {
    if (!rl.redisUrl) report('/rateLimiting', 'store is redis but redisUrl is empty: set rateLimiting.redisUrl or RATE_LIMITING__REDIS_URL');
    else if (!/^rediss?:\/\//.test(rl.redisUrl)) report('/rateLimiting/redisUrl', `"${rl.redisUrl}" is not a redis:// or rediss:// URL`);
  }

  const cors = c.cors;
  if (cors && typeof cors === 'object' && cors.credentials === true && arr(cors.origins).includes('*')) {
    report('/cors/origins', '"*" cannot be combined with credentials: true (browsers refuse it); list the origins');
  }

  if (c.defaults && typeof c.defaults === 'object') checkTransform(c.defaults.transform, '/defaults/transform', report);
  checkOtherHeaderFields(c, report);
  return problems;
}
