import { ConfigProblem } from './errors';
import type { Env } from './env';
import type { SourceMap } from './source-map';
import type { GatewayConfig } from './types';
import { isRecord } from '../util/is-record';

/**
 * The switch that turns a whole family of policies off, where it was thrown (the environment wins
 * over the file), and how to turn it back on.
 */
function offSwitch(env: Env, pointer: string, variable: string): { off: string; fix: string } {
  const text = env[variable];
  if (text !== undefined && text !== '') return { off: `${variable}=${text}`, fix: `unset ${variable} (or set it to true) to turn it on` };
  const setting = pointer.slice(1).replace(/\//g, '.');
  return { off: `${setting}: false`, fix: `set ${setting}: true to turn it on` };
}

/**
 * Policy blocks that are on but can do nothing because the switch above them is off: a route's
 * rate limit (or the global one) while rate limiting is off, Auth Service validation while auth is
 * off. Warnings, not errors: a kill switch is meant to be thrown. Each says why and how to turn it on.
 */
export function checkInertPolicies(c: GatewayConfig, env: Env, file: string, map: SourceMap): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const warn = (pointer: string, message: string) => problems.push({ file, ...map.keyAt(pointer), severity: 'warning', pointer, message });

  const rl = c.rateLimiting;
  if (isRecord(rl) && rl.enabled === false) {
    const { off, fix: turnOn } = offSwitch(env, '/rateLimiting/enabled', 'RATE_LIMITING__ENABLED');
    const fix = `${turnOn}, or write enabled: false here to say it is off`;
    let fromDefaults = false;
    (Array.isArray(c.routes) ? c.routes : []).forEach((r, i) => {
      if (!isRecord(r) || !isRecord(r.rateLimit) || r.rateLimit.enabled !== true) return;
      const own = `/routes/${i}/rateLimit`;
      if (map.has(own)) warn(own, `route "${r.name}" has a rate limit that does nothing: rate limiting is off for the whole gateway (${off}); ${fix}`);
      else fromDefaults = true;
    });
    if (fromDefaults && map.has('/defaults/rateLimit')) {
      warn('/defaults/rateLimit', `the default rate limit does nothing: rate limiting is off for the whole gateway (${off}); ${fix}`);
    }
    if (isRecord(rl.global) && rl.global.enabled === true && map.has('/rateLimiting/global')) {
      warn('/rateLimiting/global', `the global rate limit does nothing: rate limiting is off for the whole gateway (${off}); ${fix}`);
    }
  }
  const auth = c.auth;
  if (isRecord(auth) && auth.enabled === false && isRecord(auth.validateWith) && auth.validateWith.enabled === true && map.has('/auth/validateWith')) {
    const { off, fix } = offSwitch(env, '/auth/enabled', 'AUTHENTICATION__ENABLED');
    warn('/auth/validateWith', `validation by the Auth Service does nothing: auth is off for the whole gateway (${off}); ${fix}`);
  }
  return problems;
}
