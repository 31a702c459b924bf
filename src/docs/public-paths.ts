import type { HttpMethod, RouteConfig } from '../config/types';

/**
 * The gateway path that reaches `servicePath` through `route`: the inverse of the proxy's rewrite
 * (src/routing/rewrite.ts: the prefix replaced by `rewrite`, the rest passed through). Undefined
 * when the route cannot reach that path (it lies outside what the rewrite maps to). Path
 * templates (`{id}`) pass through as they are.
 */
export function publicPath(route: Pick<RouteConfig, 'path' | 'rewrite'>, servicePath: string): string | undefined {
  const prefix = route.path;
  if (route.rewrite === undefined) {
    return servicePath === prefix || servicePath.startsWith(`${prefix}/`) ? servicePath : undefined;
  }
  const base = route.rewrite.endsWith('/') ? route.rewrite.slice(0, -1) : route.rewrite;
  if (servicePath === route.rewrite || servicePath === base) return prefix;
  if (servicePath.startsWith(`${base}/`)) return prefix + servicePath.slice(base.length);
  return undefined;
}

/**
 * The route a request for `path` (a template: parameters count as one segment each) with `method`
 * reaches among `routes` on the host of `route`: the longest prefix on segment boundaries, then the
 * method, as the route table decides. A path another route shadows is not this route's to document.
 */
export function owningRoute(routes: readonly RouteConfig[], host: string, method: HttpMethod, path: string): RouteConfig | undefined {
  let candidate = path.replace(/\{[^}/]*\}/g, '_');
  while (candidate.length > 0) {
    const group = routes.filter((r) => r.path === candidate && (r.host === '' || r.host === host));
    if (group.length > 0) return group.find((r) => r.methods.includes(method));
    candidate = candidate.slice(0, candidate.lastIndexOf('/'));
  }
  return undefined;
}

/**
 * The path part of a document's first server URL (`servers: [{ url: /api/v1 }]`): OpenAPI paths
 * are relative to it. Server variables take their defaults; no server, or one at the root, is "".
 */
export function serverBasePath(servers: unknown): string {
  if (!Array.isArray(servers) || servers.length === 0) return '';
  const first = servers[0] as { url?: unknown; variables?: Record<string, { default?: unknown }> };
  if (typeof first?.url !== 'string') return '';
  const url = first.url.replace(/\{([^}]+)\}/g, (_m, name: string) => String(first.variables?.[name]?.default ?? ''));
  let pathname: string;
  try {
    pathname = new URL(url, 'http://service.invalid').pathname;
  } catch {
    return '';
  }
  return pathname.replace(/\/+$/, '');
}
