import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledGateway } from '../config/compile';
import { ERROR_CATALOG, GatewayError } from '../errors/catalog';
import { asGatewayError, writeProblem } from '../errors/problem';
import { observeWhenDone } from '../observability/request-observer';
import type { GatewayRequest } from '../pipeline/types';
import { RouteTable } from '../routing/route-table';
import { initRequest } from './request-context';

export interface DispatchState {
  /** The gateway serving new requests; a reload replaces it, requests keep the one they started on. */
  current(): CompiledGateway;
  management(req: IncomingMessage, res: ServerResponse): void;
  draining(): boolean;
  inFlight: number;
}

/**
 * helmet's headers on answers no route chain produces. /docs is left without the
 * Content-Security-Policy: its page loads scripts and styles the strict default policy would block.
 */
function setSecurityHeaders(res: ServerResponse, gw: CompiledGateway, url: string): void {
  const list = gw.securityHeaders;
  const docs = url.startsWith('/docs');
  for (let i = 0; i < list.length; i++) {
    if (docs && list[i][0] === 'content-security-policy') continue;
    res.setHeader(list[i][0], list[i][1]);
  }
}

function failWith(req: GatewayRequest, res: ServerResponse, gw: CompiledGateway) {
  return (err: unknown): void => {
    const error = asGatewayError(err);
    gw.deps.metrics.error(req.gatewayRoute?.service.name, ERROR_CATALOG[error.code].type);
    if (error.code === 'GW_INTERNAL') {
      gw.deps.logger.error('request failed inside the gateway', { requestId: req.id, error: err instanceof Error ? err.stack : String(err) });
    }
    writeProblem(res, error, RouteTable.pathOf(req.url ?? '/'), req.id);
  };
}

/**
 * The node server's request handler: the whole hot path. Request id and trace context, route
 * lookup, the in-flight limit, then the route's compiled chain on the raw req/res. Paths that no
 * route claims go to the management app.
 */
export function createDispatcher(state: DispatchState) {
  return function dispatch(raw: IncomingMessage, res: ServerResponse): void {
    const gw = state.current();
    const req = initRequest(raw, gw);
    res.setHeader('x-request-id', req.id);
    if (state.draining()) res.setHeader('connection', 'close');
    observeWhenDone(req, res, gw);

    const match = gw.table.match(req.method ?? 'GET', req.headers.host, req.url ?? '/');
    switch (match.kind) {
      case 'route': {
        req.gatewayRoute = match.route;
        const fail = failWith(req, res, gw);
        if (state.inFlight >= gw.config.gateway.maxConcurrentRequests) {
          setSecurityHeaders(res, gw, '');
          fail(new GatewayError('GW_OVERLOADED', `More than ${gw.config.gateway.maxConcurrentRequests} requests are in flight; retry shortly`, { 'retry-after': '1' }));
          return;
        }
        state.inFlight++;
        res.once('close', () => {
          state.inFlight--;
          if (!res.writableFinished) req.exchange?.clientGone();
        });
        match.route.handle(req, res, fail);
        return;
      }
      case 'method-not-allowed':
        setSecurityHeaders(res, gw, '');
        failWith(req, res, gw)(new GatewayError('GW_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; allowed: ${match.allow}`, { allow: match.allow }));
        return;
      case 'bad-path':
        setSecurityHeaders(res, gw, '');
        failWith(req, res, gw)(new GatewayError('GW_BAD_PATH', `Refused: ${match.reason}`));
        return;
      default:
        setSecurityHeaders(res, gw, req.url ?? '/');
        state.management(req, res);
    }
  };
}
