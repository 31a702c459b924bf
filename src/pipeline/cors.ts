import cors, { CorsOptions } from 'cors';
import type { GatewayConfig } from '../config/types';
import type { Handler, StageFactory } from './types';
import { onRequest } from './descriptor';

type CorsMiddleware = (req: unknown, res: unknown, next: (err?: unknown) => void) => void;

function corsOptions(c: GatewayConfig['cors'], answerPreflight: boolean): CorsOptions {
  return {
    // "*" is only allowed without credentials (lint refuses the pair); a list is matched exactly,
    // and an origin not on it gets no Access-Control-Allow-Origin.
    origin: c.origins.includes('*') ? '*' : c.origins,
    methods: c.methods,
    allowedHeaders: c.headers,
    exposedHeaders: c.exposeHeaders,
    credentials: c.credentials,
    maxAge: c.maxAge,
    preflightContinue: !answerPreflight,
    optionsSuccessStatus: 204,
  };
}

/**
 * CORS (the cors package, which needs only node's req/res). A preflight (OPTIONS with
 * Access-Control-Request-Method) is answered here, before auth and rate limiting: browsers send it
 * without credentials. Any other OPTIONS request is the client's own and goes on to the service.
 * Headers set here stay on the gateway's own error answers too, so a browser can read a 401 or 429.
 */
export const createCorsStage: StageFactory = (_route, config, deps) => {
  if (!config.cors.enabled) return null;
  const { preflight, other } = deps.shared('cors', () => ({
    preflight: cors(corsOptions(config.cors, true)) as CorsMiddleware,
    other: cors(corsOptions(config.cors, false)) as CorsMiddleware,
  }));
  return onRequest(function corsStage(req, res, next) {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      // Answered right here: the answer carries the request id like every other.
      res.setHeader('x-request-id', req.id);
      preflight(req, res, next);
    } else {
      other(req, res, next);
    }
  } satisfies Handler);
};
