/**
 * The upstream request target: the matched prefix replaced by `rewrite`, everything after it (rest
 * of the path, raw query string, percent-encoding) passed through byte for byte.
 */
export function upstreamTarget(url: string, prefix: string, rewrite: string | undefined): string {
  if (rewrite === undefined) return url;
  const rest = url.slice(prefix.length);
  if (rest === '') return rewrite;
  if (rest.charCodeAt(0) === 47 /* '/' */ && rewrite.endsWith('/')) return rewrite + rest.slice(1);
  return rewrite + rest;
}
