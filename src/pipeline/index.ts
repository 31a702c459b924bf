import { createAuthGuard, createAuthStage } from './auth';
import { createBalanceStage } from './balance';
import { createProxyStage } from './proxy';
import type { GuardFactory, StageFactory } from './types';

/**
 * The order is the contract: ip filter → cors → security headers → auth → ratelimit → validate →
 * transform → balance → proxy. Stages this version does not have yet are refused by the config
 * checks when a route asks for them, so a route never runs without a protection it declared.
 */
export const STAGES: readonly { name: string; create: StageFactory }[] = [
  { name: 'auth', create: createAuthStage },
  { name: 'balance', create: createBalanceStage },
  { name: 'proxy', create: createProxyStage },
];

/**
 * The checks that also guard WebSocket upgrades (which skip the HTTP chain): the stages that need
 * only the request, in the same order.
 */
export const UPGRADE_GUARDS: readonly { name: string; create: GuardFactory }[] = [{ name: 'auth', create: createAuthGuard }];
