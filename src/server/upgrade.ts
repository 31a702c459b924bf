import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CompiledGateway } from '../gateway/compile';
import { GatewayError } from '../errors/catalog';
import { asGatewayError, writeProblemToSocket } from '../errors/problem';
import { replaceIdentityHeaders } from '../auth/identity';
import { dropsUnderscoreName } from '../pipeline/proxy-headers';
import type { CompiledRoute, GatewayRequest, RequestGuard } from '../pipeline/types';
import { RouteTable } from '../routing/route-table';
import { upstreamTarget } from '../routing/rewrite';
import { initRequest } from './request-context';
import { framingRefusal } from './request-checks';
import { noHealthyInstance } from '../errors/coded';

/**
 * WebSocket upgrades: the same route table and path guards as plain requests; only routes with
 * `websocket: true` are proxied, everything else gets a problem response and a closed socket.
 */
export function createUpgradeHandler(current: () => CompiledGateway) {
  return function upgrade(raw: IncomingMessage, socket: Duplex, head: Buffer): void {
    const gw = current();
    const req = initRequest(raw, gw);
    socket.on('error', () => socket.destroy());
    const instancePath = RouteTable.pathOf(req.url ?? '/');
    const refuse = (err: GatewayError) => {
      gw.deps.logger.info('upgrade refused', { requestId: req.id, path: instancePath, status: err.status, clientIp: req.clientIp });
      writeProblemToSocket(socket, err, instancePath, req.id);
    };
    const refused = framingRefusal(req);
    if (refused !== undefined) return refuse(refused);
    const match = gw.table.match(req.method ?? 'GET', req.headers.host, req.url ?? '/');
    if (match.kind === 'bad-path') return refuse(new GatewayError('GW_BAD_PATH', `Refused: ${match.reason}`));
    if (match.kind !== 'route' || !match.route.websocket) {
      return refuse(new GatewayError('GW_NOT_FOUND', `No WebSocket route matches ${instancePath}`));
    }
    const route = match.route;
    req.gatewayRoute = route;
    const origin = req.headers.origin;
    const cors = gw.config.cors;
    if (origin !== undefined && cors.enabled && cors.checkWebSocketOrigin && !cors.origins.includes('*') && !cors.origins.includes(origin)) {
      return refuse(new GatewayError('GW_ORIGIN_DENIED', `WebSocket upgrades from origin ${origin} are not allowed (cors.origins)`));
    }
    runGuards(route.upgradeGuards, req, (err) => {
      if (socket.destroyed) return;
      if (err !== undefined && err !== null) return refuse(asGatewayError(err));
      proceed();
    });

    function proceed(): void {
      const instance = route.service.balancer.pick();
      const proxy = gw.websockets.get(route.service.name);
      if (!instance || !proxy) {
        return refuse(noHealthyInstance(route.service.name));
      }
      req.upstream = instance;
      req.url = upstreamTarget(req.url ?? '/', route.prefix, route.rewrite);
      req.headers['x-request-id'] = req.id;
      req.headers.traceparent = req.trace.traceparent;
      // The upgrade is forwarded with the client's own header object: identity headers are fixed here.
      dropUnderscoreHeaders(req.headers, route);
      replaceIdentityHeaders(req.headers, route.strippedRequestHeaders, req.user);
      gw.deps.logger.info('upgrade', { requestId: req.id, path: instancePath, route: route.name, service: route.service.name, upstream: instance.url, clientIp: req.clientIp });
      proxy.upgrade(req, socket, head);
    }
  };
}

/** The upgrade's client headers with `_` in their name that the route drops (see dropsUnderscoreName). */
function dropUnderscoreHeaders(headers: Record<string, unknown>, route: CompiledRoute): void {
  for (const name of Object.keys(headers)) {
    if (name.includes('_') && dropsUnderscoreName(name, route.droppedRequestHeaders, route.dropUnderscoreHeaders)) delete headers[name];
  }
}

/** Runs the route's upgrade guards in order; `done` gets the first refusal, or nothing. */
function runGuards(guards: readonly RequestGuard[], req: GatewayRequest, done: (err?: unknown) => void): void {
  let index = 0;
  const next = (err?: unknown): void => {
    if (err !== undefined && err !== null) return done(err);
    const guard = guards[index++];
    if (guard === undefined) return done();
    try {
      guard(req, next);
    } catch (thrown) {
      done(thrown);
    }
  };
  next();
}
