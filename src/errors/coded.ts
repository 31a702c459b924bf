import { GatewayError } from './catalog';

/**
 * The coded errors built in more than one place, each with its one wording and its headers, so
 * the same failure reads the same whichever part of the gateway finds it.
 */

/**
 * A request body over the route's limit; `declared` when Content-Length said so up front. The
 * connection closes: the rest of the body is not read.
 */
export function payloadTooLarge(limit: number, declared?: number | string): GatewayError {
  const body = declared === undefined ? 'The request body' : `The request body (${declared} bytes)`;
  return new GatewayError('GW_PAYLOAD_TOO_LARGE', `${body} exceeds this route's limit of ${limit} bytes`, { connection: 'close' });
}

/** No instance of the service can take a request now (all unhealthy or circuit-open). */
export function noHealthyInstance(service: string): GatewayError {
  return new GatewayError('GW_NO_HEALTHY_INSTANCE', `No instance of service "${service}" is available`, { 'retry-after': '5' });
}
