import type { CompiledRoute } from '../pipeline/types';

export type Match = { kind: 'route'; route: CompiledRoute } | { kind: 'method-not-allowed'; allow: string } | { kind: 'bad-path'; reason: string } | { kind: 'none' };

const NONE: Match = { kind: 'none' };

/** The characters every refused path holds at least one of. */
const SUSPECT = /[.%\\\0#]/;

/** '.' and '..' segments, raw or percent-encoded, and backslashes some servers treat as '/'. */
function dotSegmentProblem(path: string): string | undefined {
  if (!SUSPECT.test(path)) return undefined;
  // A fragment is never part of a request target (RFC 9112 §3.2): a server behind that drops it
  // would read `/api/..#x` as `/api/..`.
  if (path.includes('#')) return 'the request target contains "#" (a fragment, which clients never send)';
  let decoded = path;
  if (path.includes('%')) {
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return 'the path has an invalid percent-encoding';
    }
  }
  for (const segment of decoded.split(/[/\\]/)) {
    if (segment === '.' || segment === '..') return 'the path contains "." or ".." segments';
  }
  if (decoded.includes('\0')) return 'the path contains a NUL byte';
  return undefined;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

/** Lowercased host without its port. */
export function hostOfHeader(header: string | undefined): string {
  if (!header) return '';
  const h = header.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/**
 * Longest path prefix on segment boundaries, then host, then method. Routes are grouped by prefix,
 * so a lookup costs one map probe per path segment whatever the number of routes.
 */
export class RouteTable {
  private readonly byPrefix = new Map<string, CompiledRoute[]>();
  /** Each route's match, made once: a lookup allocates nothing on the way to a route. */
  private readonly matches = new Map<CompiledRoute, Match>();
  /** Whether any route names a host; if none does, the Host header is never read. */
  private readonly byHost: boolean;

  constructor(readonly routes: readonly CompiledRoute[]) {
    for (const route of routes) this.matches.set(route, { kind: 'route', route });
    this.byHost = routes.some((r) => r.host !== '');
    for (const route of routes) {
      const group = this.byPrefix.get(route.prefix) ?? [];
      group.push(route);
      this.byPrefix.set(route.prefix, group);
    }
    // Within one prefix a route for a named host is more specific than a route for any host.
    for (const group of this.byPrefix.values()) group.sort((a, b) => Number(b.host !== '') - Number(a.host !== ''));
  }

  /** The path part of a request target (before '?'). */
  static pathOf(url: string): string {
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }

  match(method: string, hostHeader: string | undefined, url: string): Match {
    if (url.charCodeAt(0) !== 47 /* '/' */) return { kind: 'bad-path', reason: 'the request target must be an absolute path' };
    const path = RouteTable.pathOf(url);
    const problem = dotSegmentProblem(path);
    if (problem) return { kind: 'bad-path', reason: problem };
    const host = this.byHost ? hostOfHeader(hostHeader) : '';
    let candidate = path;
    while (candidate.length > 0) {
      const group = this.byPrefix.get(candidate);
      if (group) {
        let hostMatched = false;
        for (const route of group) {
          if (!hostMatches(route.host, host)) continue;
          hostMatched = true;
          if (route.methods.has(method)) return this.matches.get(route)!;
        }
        if (hostMatched) return this.methodNotAllowed(group, host);
      }
      candidate = candidate.slice(0, candidate.lastIndexOf('/'));
    }
    return NONE;
  }

  private methodNotAllowed(group: readonly CompiledRoute[], host: string): Match {
    const allow = new Set<string>();
    for (const route of group) if (hostMatches(route.host, host)) for (const m of route.methods) allow.add(m);
    return { kind: 'method-not-allowed', allow: [...allow].join(', ') };
  }
}
