import type { NextFunction, Request, Response } from 'express';
import type { CompiledGateway } from '../gateway/compile';
import { GatewayError } from '../errors/catalog';
import { ipRule, IpRule, refusal } from '../pipeline/ip-filter';
import type { GatewayRequest } from '../pipeline/types';
import { RESTRICTED_MANAGEMENT_PATHS } from '../routing/management-paths';

export { RESTRICTED_MANAGEMENT_PATHS };

/**
 * `ipFilter.managementAllow` (and the global deny list) on the restricted management paths. The
 * rules are built once per compiled config (the WeakMap drops them with it) and read the client IP
 * the dispatcher resolved through the trusted proxies. The allow list defaults to loopback: safe
 * with no proxy in front (remote clients are refused) and behind one (`trustProxy` resolves the
 * real client, which is not loopback; a proxy that is not trusted is itself not loopback unless it
 * runs on this host). `withAllowList: false` (the management listener) applies the deny list only.
 */
export function managementIpFilter(current: () => CompiledGateway, withAllowList = true) {
  const rulesByGateway = new WeakMap<CompiledGateway, IpRule[]>();
  const rulesOf = (gw: CompiledGateway): IpRule[] => {
    let rules = rulesByGateway.get(gw);
    if (!rules) {
      const f = gw.config.ipFilter;
      rules = [];
      if (f.deny.length) rules.push(ipRule([], f.deny));
      if (withAllowList && f.managementAllow.length) rules.push(ipRule(f.managementAllow, []));
      rulesByGateway.set(gw, rules);
    }
    return rules;
  };
  return function managementIpGuard(req: Request, _res: Response, next: NextFunction): void {
    const gw = current();
    const clientIp = (req as unknown as GatewayRequest).clientIp;
    // An empty allow list admits nobody: an operator who clears it means "not on this port".
    if (withAllowList && gw.config.ipFilter.managementAllow.length === 0) {
      return next(new GatewayError('GW_IP_DENIED', 'This endpoint is not served on this port (ipFilter.managementAllow is empty); use the management listener'));
    }
    const rules = rulesOf(gw);
    next(rules.length ? refusal(rules, clientIp) : undefined);
  };
}
