import type { GatewayConfig } from '../config/types';
import type { ReloadOutcome, ReloadStatus } from '../reload/reloader';
import type { HealthFindings } from '../server/gateway-server';
import { isRecord } from '../util/is-record';

/**
 * What the primary and its workers tell each other over node's IPC channel. Every type starts with
 * `gw:` so that messages of other libraries on the same channel (prom-client's, say) are ignored.
 */
export type ToWorker =
  /** The config to serve: the first one starts the worker, later ones are reloads (acknowledged). */
  | { type: 'gw:config'; id: number; config: GatewayConfig }
  | { type: 'gw:health'; findings: HealthFindings }
  | { type: 'gw:reload-state'; state: ReloadStatus }
  /** The primary collects every worker's metrics for a scrape. */
  | { type: 'gw:metrics-collect'; id: number }
  /** Answers to a worker's own questions. */
  | { type: 'gw:metrics-text'; id: number; text?: string; error?: string }
  | { type: 'gw:reload-outcome'; id: number; outcome: ReloadOutcome };

export type ToPrimary =
  /** The worker listens to the channel now (messages sent before that would be lost). */
  | { type: 'gw:hello' }
  | { type: 'gw:listening' }
  | { type: 'gw:config-applied'; id: number; error?: string }
  | { type: 'gw:metrics-json'; id: number; metrics: unknown[] }
  /** A scrape reached this worker: the primary answers with the cluster's totals. */
  | { type: 'gw:metrics-ask'; id: number }
  | { type: 'gw:reload-ask'; id: number };

export function isGatewayMessage<T extends { type: string }>(message: unknown): message is T {
  return isRecord(message) && typeof message.type === 'string' && message.type.startsWith('gw:');
}
