import { createAuthGuard, createAuthStage } from './auth';
import { createBalanceStage } from './balance';
import { createProxyStage } from './proxy';
import { createIpFilterGuard, createIpFilterStage } from './ip-filter';
import { createCorsStage } from './cors';
import { createSecurityHeadersStage } from './security-headers';
import { createRateLimitStage } from './ratelimit';
import { createValidateStage } from './validate';
import { createTransformStage } from './transform';
import type { GuardFactory, StageFactory } from './types';

/**
 * The order is the contract: ip filter → cors → security headers → auth → ratelimit → validate →
 * transform → balance → proxy. Each factory returns null for a route that does not use its
 * feature, so the route pays nothing for it.
 */
export const STAGES: readonly { name: string; create: StageFactory }[] = [
  { name: 'ip-filter', create: createIpFilterStage },
  { name: 'cors', create: createCorsStage },
  { name: 'security-headers', create: createSecurityHeadersStage },
  { name: 'auth', create: createAuthStage },
  { name: 'ratelimit', create: createRateLimitStage },
  { name: 'validate', create: createValidateStage },
  { name: 'transform', create: createTransformStage },
  { name: 'balance', create: createBalanceStage },
  { name: 'proxy', create: createProxyStage },
];

/**
 * The checks that also guard WebSocket upgrades (which skip the HTTP chain): the stages that need
 * only the request, in the same order.
 */
export const UPGRADE_GUARDS: readonly { name: string; create: GuardFactory }[] = [
  { name: 'ip-filter', create: createIpFilterGuard },
  { name: 'auth', create: createAuthGuard },
];
