import { GatewayError } from '../errors/catalog';
import { IpRangeSet } from '../net/ip-range';
import type { GatewayRequest, Next, StageFactory } from './types';
import { onRequestAndUpgrade } from './descriptor';

/** One allow/deny pair; an empty allow list allows every address not denied. */
export interface IpRule {
  allow: IpRangeSet;
  deny: IpRangeSet;
}

export function ipRule(allow: string[], deny: string[]): IpRule {
  return { allow: new IpRangeSet(allow), deny: new IpRangeSet(deny) };
}

/** Why `ip` is refused by the rules (deny wins over allow), or undefined when it passes all. */
export function refusal(rules: readonly IpRule[], ip: string): GatewayError | undefined {
  for (const rule of rules) {
    if (rule.deny.has(ip) || (!rule.allow.empty && !rule.allow.has(ip))) {
      return new GatewayError('GW_IP_DENIED', `The client address ${ip} is not allowed here`);
    }
  }
  return undefined;
}

/**
 * The global `ipFilter` and the route's own, on the client IP the dispatcher resolved (right-most
 * untrusted X-Forwarded-For entry, or the peer): a client cannot talk its way past it with a
 * header unless it is a trusted proxy. A request guard, so WebSocket upgrades are filtered too.
 */
export const createIpFilterStage: StageFactory = (route, config) => {
  const rules: IpRule[] = [];
  const g = config.ipFilter;
  if (g.allow.length || g.deny.length) rules.push(ipRule(g.allow, g.deny));
  const r = route.config.ipFilter;
  if (r.allow.length || r.deny.length) rules.push(ipRule(r.allow, r.deny));
  if (rules.length === 0) return null;
  return onRequestAndUpgrade(function ipFilter(req: GatewayRequest, next: Next): void {
    next(refusal(rules, req.clientIp));
  });
};
