import type { CompiledRoute, Handler, Next } from './types';

/**
 * Express's middleware contract on node's raw req/res: each handler calls `next()` to continue or
 * `next(err)` to leave through the one error exit. A throwing handler takes the same exit.
 * A client that went away while a stage waited (a Redis count, a token check, a body read) ends
 * the chain there: nobody is left to answer, so the upstream is never asked.
 */
export function composeChain(handlers: readonly Handler[]): CompiledRoute['handle'] {
  return function runChain(req, res, fail) {
    let index = 0;
    const next: Next = (err) => {
      if (res.destroyed || req.socket.destroyed) return;
      if (err !== undefined && err !== null) {
        fail(req, res, err);
        return;
      }
      const handler = handlers[index++];
      if (!handler) return;
      try {
        handler(req, res, next);
      } catch (thrown) {
        fail(req, res, thrown);
      }
    };
    next();
  };
}
