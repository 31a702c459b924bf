import type { GatewayConfig, HttpMethod, RouteConfig } from '../config/types';
import { VERSION } from '../server/version';
import { ManagementListing, managementPaths, MANAGEMENT_TAG } from './management-operations';
import type { OpenApiDocument, OpenApiOperation, OpenApiPathItem } from './openapi-types';
import { authRequired, gatewayAnswers, hash, problem, rateLimitOf, securityOf } from './route-answers';
import type { SchemaReader } from './schema-files';
import type { ServiceDocument } from './service-document';
import type { DocumentStatus } from './service-document-source';
import { rewriteServiceDocument } from './service-operations';

/** Name of the path parameter standing for everything after a route's prefix. */
export const WILDCARD = 'path';

export interface OpenApiOptions {
  /** Reads the files named by `validate:` (see schema-files.ts). */
  readSchema: SchemaReader;
  /** `servers[0].url`; `/` (the default) makes Swagger UI's "Try it out" call the gateway serving it. */
  serverUrl?: string;
  /**
   * The services' own documents (services.<name>.openapi), as last fetched, with how the fetching
   * goes. Without it (the `openapi` command, offline) every route is a route entry.
   */
  serviceDocuments?: ReadonlyMap<string, { document: ServiceDocument | undefined; status: DocumentStatus }>;
  /** Which management endpoints the gateway answers for this client; by default those of any config, without /admin. */
  management?: Omit<ManagementListing, 'metrics'>;
}

const ALL_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The path item key of a route: its prefix followed by a parameter for the rest of the path. */
export function routePathKey(route: RouteConfig): string {
  return `${route.path}/{${WILDCARD}}`;
}

/** `"POST /create"` → POST on `<prefix>/create`; `"POST /"` → the prefix itself. */
function parseValidateKey(prefix: string, key: string): { method: HttpMethod; path: string } | undefined {
  const m = /^([A-Za-z]+)\s+(\/\S*)$/.exec(key.trim());
  if (!m) return undefined;
  const sub = m[2].replace(/\/+$/, '');
  return { method: m[1].toUpperCase() as HttpMethod, path: `${prefix}${sub}` };
}

/** Why an operation looks the way it does, in words Swagger UI shows under it. */
function describeRoute(config: GatewayConfig, route: RouteConfig): string {
  const lines = [
    `Proxied to service \`${route.service}\`${route.rewrite !== undefined ? ` with \`${route.path}\` rewritten to \`${route.rewrite}\`` : ''}.`,
    `Matches \`${route.path}\` and every path below it; timeout ${route.timeout}, request bodies up to ${route.maxBodySize}.`,
  ];
  if (route.host) lines.push(`Only for requests with \`Host: ${route.host}\`.`);
  if (route.websocket) lines.push('WebSocket upgrades are proxied too.');
  if (authRequired(config, route)) {
    const roles = route.auth.roles.length ? ` with every role of ${route.auth.roles.join(', ')}` : '';
    const anyRole = route.auth.anyRole.length ? ` with one role of ${route.auth.anyRole.join(', ')}` : '';
    lines.push(`Needs a bearer token${roles}${anyRole}.`);
  }
  const limit = rateLimitOf(config, route);
  if (limit) lines.push(`Rate limit: ${limit.requestsPerMinute} requests per minute (burst ${limit.burst}) per ${limit.key}.`);
  return lines.join('\n\n');
}

/**
 * The methods a route entry shows. A route that takes every method is one entry that says so (seven
 * identical operations tell a reader nothing); HEAD goes with GET (the same operation without a body).
 */
export function entryMethods(route: RouteConfig): { methods: HttpMethod[]; anyMethod: boolean } {
  if (ALL_METHODS.every((m) => route.methods.includes(m))) return { methods: ['GET'], anyMethod: true };
  const methods = route.methods.filter((m) => m !== 'HEAD' || !route.methods.includes('GET'));
  return { methods, anyMethod: false };
}

function routeOperation(config: GatewayConfig, route: RouteConfig, method: HttpMethod, wildcard: boolean, anyMethod = false): OpenApiOperation {
  const limit = rateLimitOf(config, route);
  const where = wildcard ? `${route.path}/…` : 'this path';
  const operation: OpenApiOperation = {
    tags: [route.name],
    summary: anyMethod ? `Any method on ${where} → ${route.service}` : `${method} ${where} → ${route.service}`,
    description: anyMethod
      ? `Every method (${route.methods.join(', ')}) is forwarded; this entry shows GET so that "Try it out" can send one.\n\n${describeRoute(config, route)}`
      : describeRoute(config, route),
    operationId: `${route.name}_${anyMethod ? 'any' : method.toLowerCase()}${wildcard ? '' : `_${hash(route.path)}`}`,
    security: securityOf(config, route),
    responses: { default: { description: `the answer of service \`${route.service}\`, passed through` }, ...gatewayAnswers(config, route) },
  };
  if (anyMethod) operation['x-gateway-methods'] = [...route.methods];
  if (wildcard) {
    operation.parameters = [
      {
        name: WILDCARD,
        in: 'path',
        required: true,
        description: `the rest of the path after \`${route.path}/\`; it may hold further "/" segments, which this page sends as typed (OpenAPI has no multi-segment parameter: other clients must not percent-encode them). \`${route.path}\` itself is routed too`,
        schema: { type: 'string' },
        'x-wildcard': true,
      },
    ];
  }
  if (limit) operation['x-ratelimit'] = limit;
  return operation;
}

/** What the description says about the services' own documents. */
function serviceDocumentLines(config: GatewayConfig, options: OpenApiOptions, merged: Map<string, { operations: number; leftOut: number }>): string[] {
  if (!options.serviceDocuments) {
    const publishing = Object.entries(config.services)
      .filter(([, s]) => s.openapi)
      .map(([name]) => `\`${name}\``);
    if (publishing.length === 0) return [];
    return [
      '',
      `Made without a running gateway: the documents of ${publishing.join(', ')} (services.<name>.openapi) are not fetched, so their routes are route entries here; GET /docs/openapi.json on a running gateway merges them.`,
    ];
  }
  if (options.serviceDocuments.size === 0) return [];
  const lines = ['', "Services' own documents (services.<name>.openapi), merged at the gateway's paths:"];
  for (const [service, { status }] of options.serviceDocuments) {
    const counts = merged.get(service);
    const shown = counts ? `${counts.operations} operations shown${counts.leftOut ? `, ${counts.leftOut} that no route exposes left out` : ''}` : 'route entries shown';
    if (status.state === 'pending') lines.push(`- \`${service}\`: not fetched yet (${shown})`);
    else if (status.state === 'ok') lines.push(`- \`${service}\`: fetched ${status.fetchedAt} from ${status.fetchedFrom}${status.path} (${shown})`);
    else lines.push(`- \`${service}\`: **the last fetch failed**: ${status.lastError}; ${status.fetchedAt ? `showing the document fetched ${status.fetchedAt}` : 'no document yet'} (${shown})`);
  }
  return lines;
}

/**
 * The OpenAPI 3.1 document of a config, one API page for the whole lab system. A service that
 * publishes its own document (services.<name>.openapi, fetched in the background) contributes its
 * operations at the gateway's public paths (service-operations.ts); every other route is one route
 * entry (`<prefix>/{path}`, the parameter standing for the rest of the path). Each `validate:`
 * entry adds its exact path with the request body schema the gateway enforces, and the
 * management endpoints this client can reach are listed last. A pure function of the config, the
 * schema files and the documents as last fetched, so it is rebuilt on every request and follows
 * hot reloads.
 */
export function buildOpenApi(config: GatewayConfig, options: OpenApiOptions): OpenApiDocument {
  const paths: Record<string, OpenApiPathItem> = {};
  const tags: OpenApiDocument['tags'] = [];
  const components: OpenApiDocument['components'] = { securitySchemes: gatewaySecuritySchemes(), schemas: { Problem: PROBLEM_SCHEMA } };
  const documented = new Set<string>();
  const merged = new Map<string, { operations: number; leftOut: number }>();
  for (const [service, { document }] of options.serviceDocuments ?? []) {
    if (!document || !config.services[service]) continue;
    const rewritten = rewriteServiceDocument(config, service, document);
    let operations = 0;
    for (const [path, item] of Object.entries(rewritten.paths)) {
      const target: OpenApiPathItem = paths[path] ?? {};
      for (const [method, operation] of Object.entries(item)) {
        const key = method as Lowercase<HttpMethod>;
        if (target[key]) continue; // already documented by a service listed earlier
        target[key] = operation as OpenApiOperation;
        operations++;
      }
      paths[path] = target;
    }
    for (const [section, entries] of Object.entries(rewritten.components)) {
      const into = ((components as Record<string, Record<string, unknown>>)[section] ??= {});
      Object.assign(into, entries);
    }
    for (const name of rewritten.routes) documented.add(name);
    merged.set(service, { operations, leftOut: rewritten.leftOut });
  }

  for (const route of config.routes) {
    tags.push({ name: route.name, description: `Route \`${route.name}\`: \`${route.path}\` → service \`${route.service}\`${documented.has(route.name) ? " (the service's own document)" : ''}` });
    if (!documented.has(route.name)) {
      const item: OpenApiPathItem = { summary: `route ${route.name}`, 'x-gateway-route': route.name, 'x-gateway-prefix': route.path };
      const { methods, anyMethod } = entryMethods(route);
      for (const method of methods) item[lower(method)] = routeOperation(config, route, method, true, anyMethod);
      paths[routePathKey(route)] = item;
    }

    for (const [key, file] of Object.entries(route.validate)) {
      const target = parseValidateKey(route.path, key);
      if (!target || !route.methods.includes(target.method)) continue;
      const read = options.readSchema(file);
      const existing = paths[target.path]?.[lower(target.method)];
      const operation = existing ?? routeOperation(config, route, target.method, false);
      // The schema the gateway enforces is the one a client must meet, whatever the service documents.
      operation.requestBody =
        'schema' in read
          ? { required: true, description: `checked by the gateway against \`${file}\``, content: { 'application/json': { schema: embeddable(read.schema) } } }
          : { required: true, description: `checked by the gateway against \`${file}\` (${read.error})`, content: { 'application/json': { schema: {} } } };
      operation.responses['400'] = problem('the body is not JSON (GW_INVALID_JSON) or does not match the schema (GW_VALIDATION_FAILED, with `errors`)');
      operation.responses['413'] = problem(`the body is larger than ${route.maxBodySize}`);
      operation.responses['415'] = problem('the body is not JSON');
      const validated: OpenApiPathItem = paths[target.path] ?? { summary: `route ${route.name}`, 'x-gateway-route': route.name };
      validated[lower(target.method)] = operation;
      paths[target.path] = validated;
    }
  }
  const management = options.management ?? { restricted: true, admin: undefined };
  Object.assign(paths, managementPaths({ metrics: config.monitoring.metrics, ...management }));
  // Last: readers come for the routes; the gateway's own endpoints are for operators.
  tags.push({ name: MANAGEMENT_TAG, description: "The gateway's own endpoints (never proxied)." });
  const statuses = options.serviceDocuments ? Object.fromEntries([...options.serviceDocuments].map(([name, { status }]) => [name, status])) : undefined;
  return {
    openapi: '3.1.0',
    info: {
      title: 'TracSeq API Gateway',
      version: VERSION,
      description: [
        `The APIs of the running config (environment \`${config.gateway.environment}\`), at the gateway's paths. A route without a service document is one entry: it matches its prefix and every path below it.`,
        ...serviceDocumentLines(config, options, merged),
      ].join('\n'),
      ...(statuses ? { 'x-gateway-service-documents': statuses } : {}),
    },
    servers: [{ url: options.serverUrl ?? '/' }],
    tags,
    paths,
    components,
    // Read by the page (swagger-ui.ts): which prefixes are route entries, whose {path} may hold "/".
    'x-gateway-routes': config.routes.map((r) => ({ name: r.name, prefix: r.path, entry: !documented.has(r.name) })),
  };
}

function gatewaySecuritySchemes(): Record<string, unknown> {
  return {
    bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a token issued by the Auth Service' },
    adminToken: { type: 'http', scheme: 'bearer', description: 'the ADMIN_TOKEN of the gateway' },
  };
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details; every gateway error has this shape.',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', description: 'the GW_* error code' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      description: 'GW_VALIDATION_FAILED only: one entry per failure',
      items: { type: 'object', properties: { pointer: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

function lower(method: HttpMethod): Lowercase<HttpMethod> {
  return method.toLowerCase() as Lowercase<HttpMethod>;
}

/**
 * A schema file's own `$id` and `$schema` would re-base references inside the document (and a
 * viewer might try to fetch them); OpenAPI 3.1 already implies JSON Schema 2020-12.
 */
function embeddable(schema: Record<string, unknown>): Record<string, unknown> {
  const { $id: _id, $schema: _schema, ...rest } = schema;
  return rest;
}
