import type { Handler, RequestGuard, StageDescriptor } from './types';

/** A stage that works on the request only, in the request chain. */
export function onRequest(request: Handler): StageDescriptor {
  return { request };
}

/**
 * A stage whose check reads only the request: the same guard runs in the request chain and in
 * front of WebSocket upgrades (which have no response object).
 */
export function onRequestAndUpgrade(guard: RequestGuard): StageDescriptor {
  return {
    upgrade: guard,
    request: function guardStage(req, _res, next) {
      guard(req, next);
    },
  };
}
