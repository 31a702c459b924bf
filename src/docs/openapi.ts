import type { GatewayConfig, HttpMethod, RouteConfig } from '../config/types';
import { VERSION } from '../server/version';
import { managementPaths, MANAGEMENT_TAG } from './management-operations';
import type { OpenApiDocument, OpenApiOperation, OpenApiPathItem } from './openapi-types';
import type { SchemaReader } from './schema-files';

/** Name of the path parameter standing for everything after a route's prefix. */
export const WILDCARD = 'path';

export interface OpenApiOptions {
  /** Reads the files named by `validate:` (see schema-files.ts). */
  readSchema: SchemaReader;
  /** `servers[0].url`; `/` (the default) makes Swagger UI's "Try it out" call the gateway serving it. */
  serverUrl?: string;
}

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

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

function rateLimitOf(config: GatewayConfig, route: RouteConfig) {
  if (!route.rateLimit.enabled || !config.rateLimiting.enabled) return undefined;
  const { requestsPerMinute, burst, key } = route.rateLimit;
  return { requestsPerMinute, burst, key };
}

function authRequired(config: GatewayConfig, route: RouteConfig): boolean {
  return config.auth.enabled && route.auth.required;
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

function routeOperation(config: GatewayConfig, route: RouteConfig, method: HttpMethod, wildcard: boolean): OpenApiOperation {
  const secured = authRequired(config, route);
  const limit = rateLimitOf(config, route);
  const responses: Record<string, unknown> = {
    default: { description: `the answer of service \`${route.service}\`, passed through` },
    '502': problem('no answer from the service (connection refused or reset)'),
    '503': problem('no healthy instance, or every circuit is open'),
    '504': problem(`the service did not answer within ${route.timeout}`),
  };
  if (secured) responses['401'] = problem('missing, invalid or expired bearer token');
  if (secured && (route.auth.roles.length || route.auth.anyRole.length)) responses['403'] = problem('the token lacks a required role');
  if (limit) responses['429'] = problem('rate limit exceeded; see Retry-After');
  const operation: OpenApiOperation = {
    tags: [route.name],
    summary: `${method} ${wildcard ? `${route.path}/…` : 'this path'} → ${route.service}`,
    description: describeRoute(config, route),
    operationId: `${route.name}_${method.toLowerCase()}${wildcard ? '' : `_${Math.abs(hash(route.path))}`}`,
    security: secured ? [{ bearer: [] }] : [],
    responses,
  };
  if (wildcard) {
    operation.parameters = [
      {
        name: WILDCARD,
        in: 'path',
        required: true,
        description: `the rest of the path after \`${route.path}/\` (may hold further "/" segments); \`${route.path}\` itself is routed too`,
        schema: { type: 'string' },
        'x-wildcard': true,
      },
    ];
  }
  if (limit) operation['x-ratelimit'] = limit;
  return operation;
}

/** Stable, short disambiguator for operation ids of validated sub-paths. */
function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The OpenAPI 3.1 document of a config: one path item per route prefix (`<prefix>/{path}`, the
 * parameter standing for the rest of the path), one more per `validate:` entry carrying its request
 * body schema (a client needs the exact path that is checked), and the gateway's own endpoints.
 * A pure function of the config and the schema files, so it can be rebuilt on every request and
 * follows hot reloads.
 */
export function buildOpenApi(config: GatewayConfig, options: OpenApiOptions): OpenApiDocument {
  const paths: Record<string, OpenApiPathItem> = {};
  const tags: OpenApiDocument['tags'] = [];
  for (const route of config.routes) {
    tags.push({ name: route.name, description: `Route \`${route.name}\`: \`${route.path}\` → service \`${route.service}\`` });
    const item: OpenApiPathItem = { summary: `route ${route.name}`, 'x-gateway-route': route.name, 'x-gateway-prefix': route.path };
    for (const method of route.methods) item[lower(method)] = routeOperation(config, route, method, true);
    paths[routePathKey(route)] = item;

    for (const [key, file] of Object.entries(route.validate)) {
      const target = parseValidateKey(route.path, key);
      if (!target || !route.methods.includes(target.method)) continue;
      const read = options.readSchema(file);
      const operation = routeOperation(config, route, target.method, false);
      operation.requestBody =
        'schema' in read
          ? { required: true, description: `checked against \`${file}\``, content: { 'application/json': { schema: embeddable(read.schema) } } }
          : { required: true, description: `checked against \`${file}\` (${read.error})`, content: { 'application/json': { schema: {} } } };
      operation.responses['400'] = problem('the body is not JSON (GW_INVALID_JSON) or does not match the schema (GW_VALIDATION_FAILED, with `errors`)');
      operation.responses['413'] = problem(`the body is larger than ${route.maxBodySize}`);
      operation.responses['415'] = problem('the body is not JSON');
      const validated: OpenApiPathItem = paths[target.path] ?? { summary: `route ${route.name}`, 'x-gateway-route': route.name };
      validated[lower(target.method)] = operation;
      paths[target.path] = validated;
    }
  }
  Object.assign(paths, managementPaths({ metrics: config.monitoring.metrics }));
  // Last: readers come for the routes; the gateway's own endpoints are for operators.
  tags.push({ name: MANAGEMENT_TAG, description: "The gateway's own endpoints (never proxied)." });
  return {
    openapi: '3.1.0',
    info: {
      title: 'TracSeq API Gateway',
      version: VERSION,
      description: `Routes of the running config (environment \`${config.gateway.environment}\`), generated from it: each route matches its prefix and every path below it.`,
    },
    servers: [{ url: options.serverUrl ?? '/' }],
    tags,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a token issued by the Auth Service' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'the ADMIN_TOKEN of the gateway' },
      },
      schemas: {
        Problem: {
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
        },
      },
    },
  };
}

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
