import type { RequestUser } from '../pipeline/types';

/**
 * Claims → the user the gateway vouches for: its id, its roles, and the identity headers the
 * upstream receives (auth.forwardClaims). Built once per token and cached with it, so a request
 * with a known token does no claim work at all.
 */
export interface ClaimHeader {
  /** Lowercased header name. */
  readonly header: string;
  readonly claim: string;
}

export function claimHeaders(forwardClaims: Record<string, string>): ClaimHeader[] {
  return Object.entries(forwardClaims).map(([header, claim]) => ({ header: header.toLowerCase(), claim }));
}

/** The identity header names (lowercased): stripped from every client request on every route. */
export function identityHeaderNames(forwardClaims: Record<string, string>): string[] {
  return [...new Set(Object.keys(forwardClaims).map((h) => h.toLowerCase()))];
}

/** A claim by name; a name with dots that is not itself a claim reaches into objects (`realm.roles`). */
export function claimValue(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims || !name.includes('.')) return claims[name];
  let node: unknown = claims;
  for (const part of name.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Roles from a list, or from a comma- or space-separated string (both forms are issued in the wild). */
export function rolesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((r): r is string => typeof r === 'string' && r !== '');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

/** Printable ASCII only: anything else would be refused by the HTTP client or could split headers. */
const HEADER_SAFE = /^[\x20-\x7e]*$/;

function headerValue(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else if (Array.isArray(value)) text = value.filter((v) => typeof v === 'string' || typeof v === 'number').join(',');
  else return undefined;
  return text !== '' && HEADER_SAFE.test(text) ? text : undefined;
}

export function userFromClaims(claims: Record<string, unknown>, headers: readonly ClaimHeader[], rolesClaim: string): RequestUser {
  const roles = rolesOf(claimValue(claims, rolesClaim));
  const forwardHeaders: Record<string, string> = {};
  for (const { header, claim } of headers) {
    // Roles go upstream as the same comma list the checks used, whichever form the token had.
    const value = claim === rolesClaim ? headerValue(roles) : headerValue(claimValue(claims, claim));
    if (value !== undefined) forwardHeaders[header] = value;
  }
  const sub = claims.sub;
  return { sub: typeof sub === 'string' || typeof sub === 'number' ? String(sub) : '', roles, claims, forwardHeaders };
}

/**
 * For requests forwarded with their own header object (WebSocket upgrades): the client's copies of
 * stripped headers out, the verified user's identity headers in.
 */
export function replaceIdentityHeaders(headers: Record<string, unknown>, stripped: readonly string[], user: RequestUser | undefined): void {
  for (const name of stripped) delete headers[name];
  if (user !== undefined) Object.assign(headers, user.forwardHeaders);
}
