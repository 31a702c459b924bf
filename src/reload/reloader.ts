import { createHash } from 'node:crypto';
import { checkConfigText } from '../config';
import type { Env } from '../config/env';
import { ConfigProblem, formatProblemsText, hasErrors } from '../config/errors';
import { readConfigFile, UnreadableFileError } from '../config/load';
import type { GatewayConfig } from '../config/types';
import type { Logger } from '../observability/logger';
import { ConfigChange, diffConfigs } from './diff';

export type ReloadTrigger = 'file' | 'signal' | 'admin';
export type ReloadResult = 'success' | 'failure' | 'unchanged' | 'restart_required';

export interface ReloadOutcome {
  result: ReloadResult;
  trigger: ReloadTrigger;
  changes: ConfigChange[];
  /** Why a reload failed: the lint messages (file:line:col …), or the restart-required settings. */
  errors: string[];
}

export interface ReloadStatus {
  file: string;
  loadedAt: string;
  lastReloadAt: string | null;
  lastReloadResult: ReloadResult | null;
  lastReloadError: string | null;
  reloads: { success: number; failure: number };
}

/** Settings the running server was built with: changing them needs a restart. */
const RESTART_REQUIRED: { name: string; read: (c: GatewayConfig) => unknown }[] = [
  { name: 'gateway.host', read: (c) => c.gateway.host },
  { name: 'gateway.port', read: (c) => c.gateway.port },
  { name: 'gateway.maxHeaderSize', read: (c) => c.gateway.maxHeaderSize },
  { name: 'gateway.managementPort', read: (c) => c.gateway.managementPort },
  { name: 'gateway.managementHost', read: (c) => c.gateway.managementHost },
  { name: 'gateway.workers', read: (c) => c.gateway.workers },
];

/** What the management endpoints use of a reloader: a local one, or a cluster worker's line to the primary's. */
export interface ReloadControl {
  readonly state: ReloadStatus;
  reload(trigger: ReloadTrigger, force?: boolean): Promise<ReloadOutcome>;
}

export interface ReloadTarget {
  /** The config serving now. */
  current(): GatewayConfig;
  /** Compiles `config` completely, then swaps it in; throws (and changes nothing) when it cannot. */
  swap(config: GatewayConfig): Promise<void>;
}

/**
 * Reloads the routes file: load → validate → compile a complete new gateway off to the side → swap
 * one reference. Any error keeps the old config serving and is reported (error log with the lint
 * messages, failure count, `lastReloadError`). Reloads run one at a time.
 */
export class ConfigReloader {
  private lastHash: string;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly status: ReloadStatus;
  /** Called after every attempt (metrics hook). */
  onOutcome: (outcome: ReloadOutcome) => void = () => undefined;

  constructor(
    private readonly file: string,
    private readonly env: () => Env,
    private readonly target: ReloadTarget,
    private readonly logger: Logger,
    initialText: string,
  ) {
    this.lastHash = this.hash(initialText);
    this.status = {
      file,
      loadedAt: new Date().toISOString(),
      lastReloadAt: null,
      lastReloadResult: null,
      lastReloadError: null,
      reloads: { success: 0, failure: 0 },
    };
  }

  get state(): ReloadStatus {
    return { ...this.status, reloads: { ...this.status.reloads } };
  }

  private hash(text: string): string {
    return createHash('sha256').update(text).update(JSON.stringify(this.env())).digest('hex');
  }

  /** Queues a reload; `force` reloads even when file and environment are unchanged. */
  reload(trigger: ReloadTrigger, force = false): Promise<ReloadOutcome> {
    const run = this.queue.then(() => this.attempt(trigger, force));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async attempt(trigger: ReloadTrigger, force: boolean): Promise<ReloadOutcome> {
    let text: string;
    try {
      text = readConfigFile(this.file);
    } catch (err) {
      if (err instanceof UnreadableFileError) return this.fail(trigger, [err.message]);
      throw err;
    }
    const hash = this.hash(text);
    if (!force && hash === this.lastHash) {
      return { result: 'unchanged', trigger, changes: [], errors: [] };
    }
    const check = checkConfigText(this.file, text, this.env());
    if (!check.config || hasErrors(check.problems)) return this.fail(trigger, this.lines(check.problems));
    const next = check.config;
    const before = this.target.current();
    const restart = RESTART_REQUIRED.filter((s) => s.read(before) !== s.read(next));
    if (restart.length) {
      return this.fail(trigger, restart.map((s) => `${s.name} changed: restart required (the running config is unchanged)`), 'restart_required');
    }
    const changes = diffConfigs(before, next);
    try {
      await this.target.swap(next);
    } catch (err) {
      return this.fail(trigger, [`the new config could not be compiled: ${err instanceof Error ? err.message : String(err)}`]);
    }
    this.lastHash = hash;
    this.status.reloads.success++;
    this.status.lastReloadAt = new Date().toISOString();
    this.status.lastReloadResult = 'success';
    this.status.lastReloadError = null;
    this.logger.info('config reloaded', { file: this.file, trigger, changes: changes.length, routes: next.routes.length, services: Object.keys(next.services).length });
    const outcome: ReloadOutcome = { result: 'success', trigger, changes, errors: [] };
    this.onOutcome(outcome);
    return outcome;
  }

  private lines(problems: ConfigProblem[]): string[] {
    return formatProblemsText(problems.filter((p) => p.severity === 'error')).split('\n');
  }

  private fail(trigger: ReloadTrigger, errors: string[], result: ReloadResult = 'failure'): ReloadOutcome {
    this.status.reloads.failure++;
    this.status.lastReloadAt = new Date().toISOString();
    this.status.lastReloadResult = result;
    this.status.lastReloadError = errors.join('\n');
    this.logger.error('config reload failed; the previous config keeps serving', { file: this.file, trigger, result, errors });
    const outcome: ReloadOutcome = { result, trigger, changes: [], errors };
    this.onOutcome(outcome);
    return outcome;
  }
}
