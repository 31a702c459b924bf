import type { IncomingMessage } from 'node:http';
import type { CompiledGateway } from '../gateway/compile';
import type { GatewayRequest } from '../pipeline/types';
import { requestIdFrom, traceContextFrom } from '../observability/request-id';

/**
 * Adds the gateway's own properties to node's request, always in this order so that every request
 * object has the same hidden class (never by changing its prototype).
 */
export function initRequest(raw: IncomingMessage, gw: CompiledGateway): GatewayRequest {
  const req = raw as GatewayRequest;
  req.gateway = gw;
  req.id = requestIdFrom(raw.headers['x-request-id']);
  req.trace = traceContextFrom(raw.headers.traceparent);
  req.clientIp = gw.deps.clientIp.resolve(raw.socket.remoteAddress, raw.headers['x-forwarded-for']);
  req.clientSocket = raw.socket;
  req.startedAt = performance.now();
  req.gatewayRoute = undefined;
  req.upstream = undefined;
  req.retries = 0;
  req.user = undefined;
  req.body = undefined;
  req.rateLimit = undefined;
  req.exchange = undefined;
  req.answerHeaders = undefined;
  return req;
}
