import type { ServerResponse } from 'node:http';
import type { CompiledRoute, GatewayRequest, Handler, Next, RequestFailure } from './types';

/**
 * Express's middleware contract on node's raw req/res: each handler calls `next()` to continue or
 * `next(err)` to leave through the one error exit. A handler that throws, or returns a promise
 * that rejects, takes the same exit; so does an exception thrown further down by a handler that
 * `next` runs from a promise callback or a timer. No exception leaves the chain for the process.
 * A client that went away while a stage waited (a Redis count, a token check, a body read) ends
 * the chain there: nobody is left to answer, so the upstream is never asked. `req.clientSocket`,
 * not `req.socket`: node sets the latter to null once the request stream is destroyed.
 */
export function composeChain(handlers: readonly Handler[]): CompiledRoute['handle'] {
  return function runChain(req, res, fail) {
    let index = 0;
    const next: Next = (err) => {
      if (res.destroyed || req.clientSocket.destroyed) return;
      if (err !== undefined && err !== null) {
        exitWith(req, res, fail, err);
        return;
      }
      const handler = handlers[index++];
      if (!handler) return;
      try {
        const pending: unknown = handler(req, res, next);
        if (pending instanceof Promise) pending.catch((thrown: unknown) => exitWith(req, res, fail, thrown));
      } catch (thrown) {
        exitWith(req, res, fail, thrown);
      }
    };
    next();
  };
}

/** The error exit, itself guarded: when writing the error answer throws, the connection is closed. */
function exitWith(req: GatewayRequest, res: ServerResponse, fail: RequestFailure, err: unknown): void {
  try {
    fail(req, res, err);
  } catch (thrown) {
    req.gateway.deps.logger.error('the error answer failed; connection closed', { requestId: req.id, error: thrown instanceof Error ? thrown.stack : String(thrown) });
    res.destroy();
  }
}
