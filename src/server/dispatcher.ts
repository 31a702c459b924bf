import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledGateway } from '../gateway/compile';
import { GatewayError } from '../errors/catalog';
import { recordFinished } from '../observability/request-observer';
import type { GatewayRequest } from '../pipeline/types';
import type { Match } from '../routing/route-table';
import { ClientConcurrency } from './client-concurrency';
import { initRequest } from './request-context';
import { framingRefusal } from './request-checks';

export interface DispatchState {
  /** The gateway serving new requests; a reload replaces it, requests keep the one they started on. */
  current(): CompiledGateway;
  management(req: IncomingMessage, res: ServerResponse): void;
  draining(): boolean;
  inFlight: number;
}

/**
 * helmet's headers on the management app's answers (the gateway's own error answers get them
 * through the error exit, from `req.answerHeaders`). /docs is left without the
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

/**
 * The node server's request handler: the whole hot path. Request id and trace context, route
 * lookup, the in-flight limit, then the route's compiled chain on the raw req/res. Paths that no
 * route claims go to the management app.
 */
export function createDispatcher(state: DispatchState) {
  /** Counted for every proxied request, limit or not, so a reload that sets a limit finds the counts right. */
  const perClient = new ClientConcurrency();

  /**
   * The one close listener of a proxied request, shared by all of them: in-flight counts,
   * cancelling the upstream request of a client that left, metrics and access line.
   */
  function proxiedClose(this: ServerResponse): void {
    const req = this.req as GatewayRequest;
    state.inFlight--;
    perClient.release(req.clientIp);
    if (!this.writableFinished) req.exchange?.clientGone();
    recordFinished(req, this, req.gateway);
  }

  return function dispatch(raw: IncomingMessage, res: ServerResponse): void {
    const gw = state.current();
    const req = initRequest(raw, gw);
    if (state.draining()) res.setHeader('connection', 'close');
    const refused = framingRefusal(req);
    if (refused !== undefined) {
      refuse(req, res, gw, refused);
      return;
    }

    const match = gw.table.match(req.method ?? 'GET', req.headers.host, req.url ?? '/');
    if (match.kind !== 'route') {
      // A route's answers get the request id where they are written (proxy, error exit, CORS preflight).
      res.setHeader('x-request-id', req.id);
      res.on('close', recordOnClose);
      answerWithoutRoute(req, res, gw, match, state);
      return;
    }
    req.gatewayRoute = match.route;
    const { maxConcurrentRequests: limit, maxConcurrentRequestsPerClient: clientLimit } = gw.config.gateway;
    if (state.inFlight >= limit) {
      refuse(req, res, gw, new GatewayError('GW_OVERLOADED', `More than ${limit} requests are in flight; retry shortly`, { 'retry-after': '1' }));
      return;
    }
    if (!perClient.tryAcquire(req.clientIp, clientLimit)) {
      refuse(req, res, gw, new GatewayError('GW_CLIENT_OVERLOADED', `This client already has ${clientLimit} requests in flight; retry once some have finished`, { 'retry-after': '1' }));
      return;
    }
    state.inFlight++;
    res.on('close', proxiedClose);
    match.route.handle(req, res, gw.fail);
  };
}

/**
 * The answer to an `Expect` other than `100-continue` (node's 'checkExpectation'), which never
 * reaches the dispatcher: 417 in the error format, with the request id, instead of node's bare one.
 */
export function createExpectationHandler(current: () => CompiledGateway) {
  return function refuseExpectation(raw: IncomingMessage, res: ServerResponse): void {
    const gw = current();
    const req = initRequest(raw, gw);
    const detail = `Expect: ${String(raw.headers.expect)} is not supported; only 100-continue is`;
    refuse(req, res, gw, new GatewayError('GW_EXPECTATION_FAILED', detail, { connection: 'close' }));
  };
}

/**
 * The handler of the management listener (gateway.managementPort): the management app alone, with
 * the same request ids, framing checks, security headers and access line as the public port.
 */
export function createManagementDispatcher(current: () => CompiledGateway, management: DispatchState['management']) {
  return function dispatchManagement(raw: IncomingMessage, res: ServerResponse): void {
    const gw = current();
    const req = initRequest(raw, gw);
    res.setHeader('x-request-id', req.id);
    const refused = framingRefusal(req);
    if (refused !== undefined) {
      refuse(req, res, gw, refused);
      return;
    }
    res.on('close', recordOnClose);
    setSecurityHeaders(res, gw, req.url ?? '/');
    management(req, res);
  };
}

/** A request turned away before any route's chain ran (its framing, a concurrency limit). */
function refuse(req: GatewayRequest, res: ServerResponse, gw: CompiledGateway, error: GatewayError): void {
  res.on('close', recordOnClose);
  req.answerHeaders = gw.securityHeaders;
  gw.fail(req, res, error);
}

/** The close listener of a request no route chain answers: metrics and access line. */
function recordOnClose(this: ServerResponse): void {
  const req = this.req as GatewayRequest;
  recordFinished(req, this, req.gateway);
}

/** 405, 400 for a refused path, or the management app (which also answers 404). */
function answerWithoutRoute(req: GatewayRequest, res: ServerResponse, gw: CompiledGateway, match: Exclude<Match, { kind: 'route' }>, state: DispatchState): void {
  switch (match.kind) {
    case 'method-not-allowed':
      req.answerHeaders = gw.securityHeaders;
      gw.fail(req, res, new GatewayError('GW_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; allowed: ${match.allow}`, { allow: match.allow }));
      return;
    case 'bad-path':
      req.answerHeaders = gw.securityHeaders;
      gw.fail(req, res, new GatewayError('GW_BAD_PATH', `Refused: ${match.reason}`));
      return;
    default:
      setSecurityHeaders(res, gw, req.url ?? '/');
      state.management(req, res);
  }
}
