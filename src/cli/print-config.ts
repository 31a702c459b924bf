import * as yaml from 'js-yaml';
import type { GatewayConfig } from '../config/types';

const MASK = '***';

/** The resolved config with secrets replaced, safe to paste into a ticket. */
export function maskSecrets(config: GatewayConfig): GatewayConfig {
  const copy = structuredClone(config);
  if (copy.auth.jwt.secret) copy.auth.jwt.secret = MASK;
  if (copy.rateLimiting.redisUrl) {
    try {
      const u = new URL(copy.rateLimiting.redisUrl);
      if (u.password) u.password = MASK;
      copy.rateLimiting.redisUrl = u.toString();
    } catch {
      copy.rateLimiting.redisUrl = MASK;
    }
  }
  return copy;
}

export function printConfig(config: GatewayConfig): string {
  return yaml.dump(maskSecrets(config), { noRefs: true, lineWidth: 120, sortKeys: false });
}
