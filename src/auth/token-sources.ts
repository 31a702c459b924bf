import type { AuthPolicy } from '../config/types';
import type { GatewayRequest } from '../pipeline/types';
import { joinQuery, paramName, paramValue, splitQuery } from '../routing/query-string';

/**
 * Where a route takes a bearer token from besides the Authorization header (auth.tokenFrom): a
 * browser cannot set that header on EventSource or `new WebSocket(...)`. The credentials are
 * taken out of the request as they are read: the parameter leaves the URL, the cookie the Cookie
 * header, so neither the upstream nor any log line written later (which all read `req.url`) sees
 * them.
 */
export interface TokenSources {
  /** Encoded parameter names, in the order they are tried. */
  readonly query: readonly string[];
  readonly cookies: readonly string[];
}

/** The route's sources, or undefined when it takes tokens from the Authorization header only. */
export function tokenSources(policy: AuthPolicy): TokenSources | undefined {
  const from = policy.tokenFrom;
  if (from === undefined || (from.query.length === 0 && from.cookies.length === 0)) return undefined;
  return { query: from.query.map(encodeURIComponent), cookies: [...from.cookies] };
}

/**
 * Removes every credential of `sources` from the request and returns the first token found
 * (parameters in order, then cookies in order), or undefined. Always strips, even when the
 * caller will use the Authorization header instead: a credential is never passed on.
 */
export function takeToken(req: GatewayRequest, sources: TokenSources): string | undefined {
  let found: string | undefined;
  let foundAt = Number.POSITIVE_INFINITY;
  const url = req.url ?? '/';
  if (sources.query.length > 0 && url.includes('?')) {
    const { path, pairs } = splitQuery(url);
    const kept: string[] = [];
    for (const pair of pairs) {
      const rank = sources.query.indexOf(paramName(pair));
      if (rank === -1) {
        kept.push(pair);
        continue;
      }
      const value = paramValue(pair);
      if (value && rank < foundAt) {
        found = value;
        foundAt = rank;
      }
    }
    if (kept.length !== pairs.length) req.url = joinQuery(path, kept);
  }
  const cookie = req.headers.cookie;
  if (sources.cookies.length > 0 && cookie !== undefined) {
    const parts = cookie.split(';');
    const kept: string[] = [];
    let cookieToken: string | undefined;
    let cookieAt = Number.POSITIVE_INFINITY;
    for (const part of parts) {
      const eq = part.indexOf('=');
      const rank = eq === -1 ? -1 : sources.cookies.indexOf(part.slice(0, eq).trim());
      if (rank === -1) {
        kept.push(part.trim());
        continue;
      }
      const value = unquote(part.slice(eq + 1).trim());
      if (value && rank < cookieAt) {
        cookieToken = value;
        cookieAt = rank;
      }
    }
    if (kept.length !== parts.length) {
      const rest = kept.filter((p) => p !== '').join('; ');
      if (rest === '') delete req.headers.cookie;
      else req.headers.cookie = rest;
    }
    found ??= cookieToken;
  }
  return found;
}

/** RFC 6265 allows a cookie value in double quotes. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
