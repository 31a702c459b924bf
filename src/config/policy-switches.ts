import { isRecord } from '../util/is-record';

/**
 * The policy blocks that are off unless configured. Kong's model: a configured plugin runs. A block
 * written in the file (any mapping, even `{}` or one holding only settings) is on unless it says
 * `enabled: false`; a block not written keeps the schema's `enabled: false`. Blocks that are on by
 * default (auth, securityHeaders, loadBalancing, healthCheck, circuitBreaker) need no switch.
 */
export const SWITCHED_ON_BY_WRITING = ['/defaults/rateLimit', '/routes/*/rateLimit', '/cors', '/rateLimiting/global', '/auth/validateWith'] as const;

function blocksAt(document: Record<string, unknown>, pattern: string): Record<string, unknown>[] {
  let nodes: unknown[] = [document];
  for (const token of pattern.split('/').slice(1)) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (token === '*' && Array.isArray(node)) next.push(...(node as unknown[]));
      else if (isRecord(node)) next.push(node[token]);
    }
    nodes = next;
  }
  return nodes.filter(isRecord);
}

/**
 * Writes `enabled: true` into every written policy block that does not say `enabled` itself. Runs on
 * the file as written, before the environment overrides: a variable that only sets a value
 * (`CORS__ALLOW_ORIGINS`, `RATE_LIMITING__DEFAULT_REQUESTS_PER_MINUTE`) never switches a policy on,
 * and the `*__ENABLED=false` variables stay the kill switches.
 */
export function switchOnWrittenPolicies(document: unknown): void {
  if (!isRecord(document)) return;
  for (const pattern of SWITCHED_ON_BY_WRITING) {
    for (const block of blocksAt(document, pattern)) if (block.enabled === undefined) block.enabled = true;
  }
}
