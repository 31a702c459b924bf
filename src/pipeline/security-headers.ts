import helmet, { HelmetOptions } from 'helmet';
import type { GatewayConfig } from '../config/types';
import type { Handler, HeaderList, StageFactory } from './types';

/** Upstream headers that advertise software and versions to attackers; never passed on. */
const REVEALING: readonly string[] = ['server', 'x-powered-by'];

/**
 * helmet's headers for this config, worked out once: helmet only sets fixed values, so running it
 * against a recording response at compile time gives the same headers as running it per request,
 * for the cost of a few setHeader calls.
 */
export function securityHeaderList(config: GatewayConfig): HeaderList {
  const s = config.securityHeaders;
  if (!s.enabled) return [];
  const options: HelmetOptions = {
    strictTransportSecurity: s.hsts,
    frameguard: { action: s.frameguard },
    // An explicit policy is sent as written; helmet would parse and re-serialise it.
    contentSecurityPolicy: s.contentSecurityPolicy === '' ? true : false,
  };
  const recorded: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      recorded.push([name.toLowerCase(), String(value)]);
    },
    removeHeader() {},
  };
  helmet(options)({} as never, recorder as never, () => undefined);
  if (s.contentSecurityPolicy !== '') recorded.push(['content-security-policy', s.contentSecurityPolicy]);
  return recorded;
}

/**
 * helmet's headers on the route's answers, whether the upstream's or the gateway's own errors from
 * any later stage, and the upstream's Server / X-Powered-By dropped. The stage only names the list
 * for the request (`req.answerHeaders`): the proxy adds it to the upstream's head and the error exit
 * to its problem+json answer, each in one go. Answers outside routes (management, 404, 405) get the
 * same list from the dispatcher.
 */
export const createSecurityHeadersStage: StageFactory = (_route, config, deps) => {
  const list = deps.shared('security-headers', () => securityHeaderList(config));
  if (list.length === 0) return null;
  return {
    request: function securityHeaders(req, _res, next) {
      req.answerHeaders = list;
      next();
    } satisfies Handler,
    responseHead: { drop: REVEALING },
  };
};
