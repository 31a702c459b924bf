import { createAuthStage } from './auth';
import { createBalanceStage } from './balance';
import { createProxyStage } from './proxy';
import { createIpFilterStage } from './ip-filter';
import { createCorsStage } from './cors';
import { createSecurityHeadersStage } from './security-headers';
import { createRateLimitStage } from './ratelimit';
import { createValidateStage } from './validate';
import { createTransformStage } from './transform';
import type { StageFactory } from './types';

/**
 * The order is the contract: ip filter → cors → security headers → auth → ratelimit → validate →
 * transform → balance → proxy, for every phase (the request chain, the upgrade guards, the
 * response edits). Each factory returns null for a route that does not use its feature, so the
 * route pays nothing for it.
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
