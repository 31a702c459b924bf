import { discoveryRecordType } from '../config/discovery-type';
import type { DiscoveryConfig } from '../config/types';
import { compileGateway } from '../gateway/compile';
import type { GatewayConfig } from '../config/types';
import { silentLogger } from '../observability/logger';
import { upstreamTarget } from '../routing/rewrite';
import { RouteTable } from '../routing/route-table';
import { isManagementPath } from '../routing/management-paths';
import { RESTRICTED_MANAGEMENT_PATHS } from '../server/management-ip-filter';
import { runtimeDeps } from '../server/gateway-server';

/** What the gateway answers itself at `path` (no route may claim these), or undefined. */
function managementAnswer(path: string, config: GatewayConfig): string | undefined {
  const endpoint = isManagementPath(path);
  if (endpoint === undefined) return undefined;
  const restricted = RESTRICTED_MANAGEMENT_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
  const allow = config.ipFilter.managementAllow;
  const who = restricted
    ? `on the public port only to ${allow.length ? allow.join(', ') : 'nobody'} (ipFilter.managementAllow)${config.gateway.managementPort ? `, on the management port ${config.gateway.managementPort} to anyone` : ''}`
    : 'to anyone on both ports';
  return `${path} is a management endpoint (under ${endpoint}; GET / lists them), answered ${who}`;
}

/** What the gateway would do with one request, in words; exit code 0 when a route matches. */
export async function explain(config: GatewayConfig, method: string, url: string, host?: string): Promise<{ text: string; matched: boolean }> {
  const gw = compileGateway(config, runtimeDeps(silentLogger()));
  try {
    const m = method.toUpperCase();
    const match = gw.table.match(m, host, url);
    switch (match.kind) {
      case 'bad-path':
        return { matched: false, text: `${m} ${url}\n  400 GW_BAD_PATH: ${match.reason}\n` };
      case 'method-not-allowed':
        return { matched: false, text: `${m} ${url}\n  405 GW_METHOD_NOT_ALLOWED: a route matches the path but not ${m}; Allow: ${match.allow}\n` };
      case 'none': {
        const own = managementAnswer(RouteTable.pathOf(url), config);
        if (own) return { matched: true, text: `${m} ${url}\n  answered by the gateway itself: ${own}\n` };
        return {
          matched: false,
          text: `${m} ${url}\n  404 GW_NOT_FOUND: no route prefix matches (and it is not a management endpoint if it is not listed by GET /)\n  routes: ${gw.routes.map((r) => r.prefix).join(', ')}\n`,
        };
      }
      default: {
        const r = match.route;
        const target = upstreamTarget(url, r.prefix, r.rewrite);
        const lines = [
          `${m} ${url}`,
          `  route:     ${r.name} (path ${r.prefix}${r.host ? `, host ${r.host}` : ''}, methods ${[...r.methods].join(', ')})`,
          `  service:   ${r.service.name} (${config.loadBalancing.enabled ? r.service.config.loadBalancer : 'first_available'})`,
          `  stages:    ${(gw.stagesByRoute.get(r.name) ?? []).join(' → ')}`,
          `  timeout:   ${r.timeoutMs} ms, max body ${r.maxBodyBytes} bytes${r.websocket ? ', websocket upgrades proxied' : ''}`,
          ...upstreamCandidates(r.service.config.discovery, r.service.instances, target),
        ];
        return { matched: true, text: lines.join('\n') + '\n' };
      }
    }
  } finally {
    await gw.close();
  }
}

/** The instances a route's requests go to: listed, or, for a discovered service, how they are found. */
function upstreamCandidates(discovery: DiscoveryConfig, instances: readonly { origin: string; weight: number }[], target: string): string[] {
  if (discovery.dns === '') return ['  upstream candidates:', ...instances.map((i) => `    ${i.origin}${target} (weight ${i.weight})`)];
  const type = discoveryRecordType(discovery.type, discovery.dns);
  const port = type === 'SRV' ? 'the ports of its SRV records' : `port ${discovery.port || (discovery.scheme === 'https' ? 443 : 80)}`;
  return [`  upstream candidates: discovered in DNS, ${type} records of ${discovery.dns} (${discovery.scheme}, ${port}, looked up every ${discovery.refresh} at most), path ${target}`];
}
