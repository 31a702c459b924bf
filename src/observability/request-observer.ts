import type { ServerResponse } from 'node:http';
import type { GatewayRequest, RequestGateway } from '../pipeline/types';
import { isManagementPath } from '../routing/management-paths';
import { RouteTable } from '../routing/route-table';
import { writeAccessLine } from './access-log';
import { UNMATCHED } from './metrics';
import { unfinishedStatus } from '../upstream/stream-end';

/**
 * What happens when a response closes: the request is counted and timed (per route; requests no
 * route matched under `route="unmatched"`; successful management calls such as scrapes are not
 * counted) and, when enabled, logged. An answer that did not finish is recorded by who ended it
 * (see unfinishedStatus): 499 the client, 504 or 502 the upstream mid-stream. The dispatcher calls it from the one close listener a request gets.
 */
export function recordFinished(req: GatewayRequest, res: ServerResponse, gw: RequestGateway): void {
  const { metrics, accessLog, logger } = gw.deps;
  try {
    const status = res.writableFinished ? res.statusCode : unfinishedStatus(req.exchange?.endedBy);
    const route = req.gatewayRoute;
    if (route) {
      route.metrics.record(req.method ?? 'GET', status, (performance.now() - req.startedAt) / 1000);
    } else if (status >= 400 || !isManagementPath(RouteTable.pathOf(req.url ?? '/'))) {
      const seconds = (performance.now() - req.startedAt) / 1000;
      metrics.requests.inc({ method: req.method ?? 'GET', service: 'none', route: UNMATCHED, status: String(status) });
      metrics.requestDuration.observe({ service: 'none', route: UNMATCHED }, seconds);
    }
    if (gw.logRequests) writeAccessLine(accessLog, req, status);
  } catch (err) {
    // Observing a request must never take the process down.
    logger.error('recording a finished request failed', { requestId: req.id, error: String(err) });
  }
}
