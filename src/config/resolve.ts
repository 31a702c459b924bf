import { GatewayConfig } from './types';
import { SchemaNode, deepMerge, fillDefaults, routesSchema } from './schema';
import { isRecord } from '../util/is-record';

const INHERITED_POLICIES = ['auth', 'rateLimit', 'transform', 'retry'] as const;

/**
 * Turns a schema-valid document into the resolved config: instance strings become objects, routes
 * inherit `defaults` (a route's policy block is merged over the default block key by key), services
 * inherit `loadBalancing.algorithm`, and every remaining absent setting takes its schema default.
 * Tolerates invalid documents (it never throws) so that semantic checks can still run on them.
 */
export function resolveConfig(document: unknown, schema: SchemaNode = routesSchema()): GatewayConfig {
  const doc: Record<string, unknown> = isRecord(document) ? structuredClone(document) : {};
  const routes = doc.routes;
  const services = doc.services;
  delete doc.routes;
  delete doc.services;
  fillDefaults(schema, schema, doc);
  const defaults = doc.defaults as Record<string, unknown>;
  const gateway = doc.gateway as Record<string, unknown>;
  const loadBalancing = doc.loadBalancing as Record<string, unknown>;

  if (isRecord(services)) {
    for (const service of Object.values(services)) {
      if (!isRecord(service)) continue;
      if (Array.isArray(service.instances)) {
        service.instances = (service.instances as unknown[]).map((i) => (typeof i === 'string' ? { url: i } : i));
      }
      if (service.loadBalancer === undefined && isRecord(loadBalancing)) service.loadBalancer = loadBalancing.algorithm;
    }
  }
  if (Array.isArray(routes)) {
    for (let i = 0; i < routes.length; i++) {
      const route: unknown = routes[i];
      if (!isRecord(route)) continue;
      if (route.timeout === undefined && isRecord(defaults)) route.timeout = defaults.timeout;
      if (route.maxBodySize === undefined && isRecord(gateway)) route.maxBodySize = gateway.maxBodySize;
      if (isRecord(defaults)) for (const p of INHERITED_POLICIES) route[p] = deepMerge(defaults[p], route[p]);
    }
  }
  doc.services = services ?? {};
  doc.routes = routes ?? [];
  fillDefaults(schema, schema, doc);
  if (Array.isArray(doc.routes)) {
    for (const route of doc.routes) if (isRecord(route) && route.rewrite === '') delete route.rewrite;
  }
  return doc as unknown as GatewayConfig;
}
