import type { NextFunction, Request, Response } from 'express';
import type { CompiledGateway } from '../config/compile';
import { ipRule, IpRule, refusal } from '../pipeline/ip-filter';
import type { GatewayRequest } from '../pipeline/types';

/** The management paths that reveal the deployment or change it; `GET /` and `/health` stay open for probes. */
export const RESTRICTED_MANAGEMENT_PATHS = ['/metrics', '/services', '/health/services', '/admin'];

/**
 * `ipFilter.managementAllow` (and the global deny list) on the restricted management paths. The
 * rules are built once per compiled config (the WeakMap drops them with it) and read the client IP
 * the dispatcher resolved through the trusted proxies.
 */
export function managementIpFilter(current: () => CompiledGateway) {
  const rulesByGateway = new WeakMap<CompiledGateway, IpRule[]>();
  const rulesOf = (gw: CompiledGateway): IpRule[] => {
    let rules = rulesByGateway.get(gw);
    if (!rules) {
      const f = gw.config.ipFilter;
      rules = [];
      if (f.deny.length) rules.push(ipRule([], f.deny));
      if (f.managementAllow.length) rules.push(ipRule(f.managementAllow, []));
      rulesByGateway.set(gw, rules);
    }
    return rules;
  };
  return function managementIpGuard(req: Request, _res: Response, next: NextFunction): void {
    const rules = rulesOf(current());
    next(rules.length ? refusal(rules, (req as unknown as GatewayRequest).clientIp) : undefined);
  };
}
