import type { Env } from '../config/env';
import { ConfigProblem, formatProblemsText } from '../config/errors';
import type { GatewayConfig } from '../config/types';
import type { Logger } from '../observability/logger';
import { ConfigChange, diffConfigs } from './diff';
import { contentHash } from './content-hash';
import { OffThreadConfigCheck, sharedConfigCheck } from './off-thread-check';

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
 *
 * Reading and checking the file happen in a worker thread with a time and memory limit, so that no
 * file, however large or hostile, keeps this thread from answering requests; only a config that
 * passed comes back, to be compiled here.
 */
export class ConfigReloader {
  private lastHash: string;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly status: ReloadStatus;
  private readonly checker: OffThreadConfigCheck;
  /** Called after every attempt (metrics hook). */
  onOutcome: (outcome: ReloadOutcome) => void = () => undefined;

  constructor(
    private readonly file: string,
    private readonly env: () => Env,
    private readonly target: ReloadTarget,
    private readonly logger: Logger,
    initialText: string,
    checker: OffThreadConfigCheck = sharedConfigCheck(),
  ) {
    this.checker = checker;
    this.lastHash = contentHash(initialText, this.env());
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

  /** Resolves once the checking thread is up, so the first reload is as quick as the next. */
  warmUp(): Promise<void> {
    return this.checker.warmUp();
  }

  /** Queues a reload; `force` reloads even when file and environment are unchanged. */
  reload(trigger: ReloadTrigger, force = false): Promise<ReloadOutcome> {
    const run = this.queue.then(() => this.attempt(trigger, force));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async attempt(trigger: ReloadTrigger, force: boolean): Promise<ReloadOutcome> {
    const check = await this.checker.check(this.file, this.env());
    if ('unreadable' in check) return this.fail(trigger, [check.unreadable]);
    const { hash } = check;
    if (!force && hash === this.lastHash) {
      return { result: 'unchanged', trigger, changes: [], errors: [] };
    }
    if (!check.config || check.problems.length) {
      const more = check.omitted ? [`${this.file}: ${check.omitted} more errors; \`tracseq-gateway lint ${this.file}\` lists them all`] : [];
      return this.fail(trigger, [...this.lines(check.problems), ...more]);
    }
    const next = check.config;
    const before = this.target.current();
    const restart = RESTART_REQUIRED.filter((s) => s.read(before) !== s.read(next));
    if (restart.length) {
      return this.fail(
        trigger,
        restart.map((s) => `${s.name} changed: restart required (the running config is unchanged)`),
        'restart_required',
      );
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
