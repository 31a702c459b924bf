import type { GatewayConfig, HttpMethod, RouteConfig } from '../config/types';
import { isRecord } from '../util/is-record';
import type { OpenApiOperation, OpenApiPathItem } from './openapi-types';
import { owningRoute, publicPath, serverBasePath } from './public-paths';
import { gatewayAnswers, rateLimitOf, securityOf } from './route-answers';
import type { ServiceDocument } from './service-document';

const METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Component sections a document may refer into; securitySchemes are replaced by the gateway's own. */
const COMPONENT_SECTIONS = ['schemas', 'responses', 'parameters', 'examples', 'requestBodies', 'headers', 'links', 'callbacks', 'pathItems'] as const;

/** A service's document rewritten to the gateway's public paths. */
export interface RewrittenDocument {
  paths: Record<string, OpenApiPathItem>;
  /** By section, the service's components renamed `<service>.<name>` so that services never collide. */
  components: Partial<Record<(typeof COMPONENT_SECTIONS)[number], Record<string, unknown>>>;
  /** Operations of the document that no route exposes (outside every route's rewrite, a method a route refuses, shadowed by another route). */
  leftOut: number;
  /** Names of the routes it gives at least one operation (their route entries are not shown as well). */
  routes: Set<string>;
}

/** The name a component of `service` takes in the merged document. */
export const componentName = (service: string, name: string) => `${service}.${name}`;

/**
 * Deep copy of `value` with its references moved into the merged document: local
 * `#/components/<section>/<name>` references get the service's prefix; any other reference (another
 * file, a URL, a path of the service's own document) cannot resolve there and becomes an empty
 * schema that says what it was, rather than a reference a viewer would chase.
 */
function relocate(value: unknown, service: string): unknown {
  if (Array.isArray(value)) return value.map((v) => relocate(v, service));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string') {
      const moved = movedRef(v, service);
      if (moved === undefined) return { description: `reference ${v} of service ${service} (not followed)` };
      out.$ref = moved;
    } else if (key === 'mapping' && isRecord(v)) {
      // discriminator.mapping values are references too.
      out.mapping = Object.fromEntries(Object.entries(v).map(([k, ref]) => [k, typeof ref === 'string' ? (movedRef(ref, service) ?? ref) : ref]));
    } else {
      Object.defineProperty(out, key, { value: relocate(v, service), enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function movedRef(ref: string, service: string): string | undefined {
  const m = /^#\/components\/([^/]+)\/([^/]+)(\/.*)?$/.exec(ref);
  if (!m || !(COMPONENT_SECTIONS as readonly string[]).includes(m[1])) return undefined;
  return `#/components/${m[1]}/${componentName(service, m[2])}${m[3] ?? ''}`;
}

/** The operation as the gateway serves it on `route`. */
function gatewayOperation(config: GatewayConfig, route: RouteConfig, service: string, method: HttpMethod, servicePath: string, original: Record<string, unknown>): OpenApiOperation {
  const op = relocate(original, service) as Record<string, unknown>;
  delete op.servers;
  delete op.security;
  const responses = isRecord(op.responses) ? op.responses : {};
  const summary = typeof op.summary === 'string' ? op.summary : `${method} ${servicePath}`;
  const via = `Through route \`${route.name}\` to service \`${service}\` (\`${method} ${servicePath}\` there).`;
  const limit = rateLimitOf(config, route);
  const operation: OpenApiOperation = {
    ...op,
    tags: [route.name],
    summary,
    description: typeof op.description === 'string' && op.description !== '' ? `${op.description}\n\n${via}` : via,
    operationId: `${route.name}.${typeof op.operationId === 'string' ? op.operationId : `${method.toLowerCase()}${servicePath.replace(/[^A-Za-z0-9]+/g, '_')}`}`,
    security: securityOf(config, route),
    // The service's own answers first; the gateway's where the service documents none for a status.
    responses: { ...gatewayAnswers(config, route), ...responses },
    'x-gateway-route': route.name,
    'x-gateway-service-path': servicePath,
  };
  if (limit) operation['x-ratelimit'] = limit;
  return operation;
}

/**
 * `document` of `service` rewritten to the gateway: each route pointing at the service publishes
 * the operations it can reach, at its public path (prefix and rewrite applied), with its methods
 * only, the gateway's security (the route's auth: bearer, or none for a public route) and the
 * gateway's own answers. Operations that no route exposes are left out, and counted.
 */
export function rewriteServiceDocument(config: GatewayConfig, service: string, document: ServiceDocument): RewrittenDocument {
  const base = serverBasePath(document.servers);
  const routes = config.routes.filter((r) => r.service === service);
  const paths: Record<string, OpenApiPathItem> = {};
  const documented = new Set<string>();
  let total = 0;
  let kept = 0;
  for (const [relative, rawItem] of Object.entries(document.paths)) {
    if (!isRecord(rawItem) || !relative.startsWith('/')) continue;
    const servicePath = `${base}${relative}`;
    const itemParameters = Array.isArray(rawItem.parameters) ? (relocate(rawItem.parameters, service) as Record<string, unknown>[]) : undefined;
    for (const method of METHODS) {
      const original = rawItem[method.toLowerCase()];
      if (!isRecord(original)) continue;
      total++;
      let published = false;
      for (const route of routes) {
        if (!route.methods.includes(method)) continue;
        const path = publicPath(route, servicePath);
        if (path === undefined || owningRoute(config.routes, route.host, method, path) !== route) continue;
        const item: OpenApiPathItem = paths[path] ?? {};
        const key = method.toLowerCase() as Lowercase<HttpMethod>;
        if (item[key]) continue; // two routes (hosts) reaching the same path: the first one documents it
        const operation = gatewayOperation(config, route, service, method, servicePath, original);
        // Path-level parameters move into each operation: two services' items may share a gateway path.
        if (itemParameters) operation.parameters = [...itemParameters, ...(operation.parameters ?? [])];
        item[key] = operation;
        paths[path] = item;
        published = true;
        documented.add(route.name);
      }
      if (published) kept++;
    }
  }
  const components: RewrittenDocument['components'] = {};
  if (kept > 0 && isRecord(document.components)) {
    for (const section of COMPONENT_SECTIONS) {
      const entries = document.components[section];
      if (!isRecord(entries)) continue;
      components[section] = Object.fromEntries(Object.entries(entries).map(([name, value]) => [componentName(service, name), relocate(value, service)]));
    }
  }
  return { paths, components, leftOut: total - kept, routes: documented };
}
