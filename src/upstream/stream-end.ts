import type { StreamEnd } from '../pipeline/types';

/**
 * What ended an answer the proxy was relaying, from the error undici reported: undefined when the
 * client left (that is the client's close, 499), else the gateway's own reason for closing.
 */
export function streamEnd(err: Error, clientGone: Error, clientTooSlow: Error): StreamEnd | undefined {
  if (err === clientGone) return undefined;
  if (err === clientTooSlow) return 'client_too_slow';
  return (err as { code?: unknown }).code === 'UND_ERR_BODY_TIMEOUT' ? 'upstream_idle_timeout' : 'upstream_failed';
}

/**
 * The status recorded (access log, metrics) for an answer that did not finish: 499 when the
 * client closed the connection or read too slowly, 504 when the upstream went quiet for longer
 * than the route's streamIdleTimeout, 502 when it broke off. The client saw the head's status and
 * a closed connection; these say who ended it.
 */
export function unfinishedStatus(endedBy: StreamEnd | undefined): number {
  switch (endedBy) {
    case 'upstream_idle_timeout':
      return 504;
    case 'upstream_failed':
      return 502;
    default:
      return 499;
  }
}
