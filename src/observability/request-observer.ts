import type { ServerResponse } from 'node:http';
import type { CompiledGateway } from '../config/compile';
import type { GatewayRequest } from '../pipeline/types';
import { isManagementPath } from '../routing/management-paths';
import { RouteTable } from '../routing/route-table';
import { logRequestWhenDone } from './access-log';
import { UNMATCHED } from './metrics';

/**
 * What happens when a response closes: the request is counted and timed (per route; requests no
 * route matched under `route="unmatched"`; successful management calls such as scrapes are not
 * counted) and, when enabled, logged.
 */
export function observeWhenDone(req: GatewayRequest, res: ServerResponse, gw: CompiledGateway): void {
  const { metrics } = gw.deps;
  res.once('close', () => {
    const status = res.writableFinished ? res.statusCode : 499;
    const seconds = (performance.now() - req.startedAt) / 1000;
    const route = req.gatewayRoute;
    if (route) {
      route.metrics.record(req.method ?? 'GET', status, seconds);
    } else if (status >= 400 || !isManagementPath(RouteTable.pathOf(req.url ?? '/'))) {
      metrics.requests.inc({ method: req.method ?? 'GET', service: 'none', route: UNMATCHED, status: String(status) });
      metrics.requestDuration.observe({ service: 'none', route: UNMATCHED }, seconds);
    }
  });
  if (gw.config.monitoring.logRequests) logRequestWhenDone(req, res, gw.deps.logger);
}
