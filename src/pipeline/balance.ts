import { GatewayError } from '../errors/catalog';
import type { Handler, StageFactory } from './types';

/** Picks the upstream instance for this request; none available is an immediate 503, never a wait. */
export const createBalanceStage: StageFactory = (route) => {
  const service = route.service;
  return function balance(req, _res, next) {
    const instance = service.balancer.pick();
    if (!instance) {
      next(new GatewayError('GW_NO_HEALTHY_INSTANCE', `No instance of service "${service.name}" is available`, { 'retry-after': '5' }));
      return;
    }
    req.upstream = instance;
    next();
  } satisfies Handler;
};
