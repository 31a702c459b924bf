import { createBalanceStage } from './balance';
import { createProxyStage } from './proxy';
import type { StageFactory } from './types';

/**
 * The order is the contract: ip filter → cors → security headers → auth → ratelimit → validate →
 * transform → balance → proxy. Stages this version does not have yet are refused by the config
 * checks when a route asks for them, so a route never runs without a protection it declared.
 */
export const STAGES: readonly { name: string; create: StageFactory }[] = [
  { name: 'balance', create: createBalanceStage },
  { name: 'proxy', create: createProxyStage },
];
