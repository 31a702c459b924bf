import type { ServerResponse } from 'node:http';
import type { GatewayDeps, GatewayRequest } from '../pipeline/types';
import { RouteTable } from '../routing/route-table';
import { ERROR_CATALOG } from './catalog';
import { asGatewayError, writeProblem } from './problem';

/** A request's one error exit: counts the error and writes the problem+json answer. */
export function failRequest(req: GatewayRequest, res: ServerResponse, deps: GatewayDeps, err: unknown): void {
  const error = asGatewayError(err);
  deps.metrics.error(req.gatewayRoute?.service.name, ERROR_CATALOG[error.code].type);
  if (error.code === 'GW_INTERNAL') {
    deps.logger.error('request failed inside the gateway', { requestId: req.id, error: err instanceof Error ? err.stack : String(err) });
  }
  const own = req.answerHeaders;
  if (own !== undefined && !res.headersSent) for (const [name, value] of own) res.setHeader(name, value);
  writeProblem(res, error, RouteTable.pathOf(req.url ?? '/'), req.id);
}
