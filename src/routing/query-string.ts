/**
 * Raw query strings, edited parameter by parameter: the parameters that stay keep their bytes,
 * their percent-encoding and their order, so the upstream sees exactly what the client sent.
 */

/** A raw `name=value` pair's name, decoded and re-encoded for comparison; a malformed one stays as written. */
export function paramName(pair: string): string {
  const eq = pair.indexOf('=');
  const raw = eq === -1 ? pair : pair.slice(0, eq);
  try {
    return encodeURIComponent(decodeURIComponent(raw.replace(/\+/g, ' ')));
  } catch {
    return raw;
  }
}

/** A raw pair's value decoded as a form value (`+` is a space), or undefined when malformed. */
export function paramValue(pair: string): string | undefined {
  const eq = pair.indexOf('=');
  if (eq === -1) return '';
  try {
    return decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The URL's path and its query's raw pairs (empty pairs dropped). */
export function splitQuery(url: string): { path: string; pairs: string[] } {
  const q = url.indexOf('?');
  if (q === -1) return { path: url, pairs: [] };
  return {
    path: url.slice(0, q),
    pairs: url
      .slice(q + 1)
      .split('&')
      .filter((pair) => pair !== ''),
  };
}

export function joinQuery(path: string, pairs: readonly string[]): string {
  return pairs.length ? `${path}?${pairs.join('&')}` : path;
}
