import type { Handler, StageFactory } from './types';
import { noHealthyInstance } from '../errors/coded';
import { onRequest } from './descriptor';

/** Picks the upstream instance for this request; none available is an immediate 503, never a wait. */
export const createBalanceStage: StageFactory = (route) => {
  const service = route.service;
  return onRequest(function balance(req, _res, next) {
    const instance = service.balancer.pick();
    if (!instance) {
      next(noHealthyInstance(service.name));
      return;
    }
    req.upstream = instance;
    next();
  } satisfies Handler);
};
