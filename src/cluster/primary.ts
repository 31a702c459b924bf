import cluster, { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Env } from '../config/env';
import { readConfigFile } from '../config/load';
import type { GatewayConfig } from '../config/types';
import { parseDuration } from '../config/units';
import type { Logger } from '../observability/logger';
import { GatewayMetrics } from '../observability/metrics';
import { ConfigReloader } from '../reload/reloader';
import { ConfigWatcher } from '../reload/watcher';
import { ClusterHealthMonitor } from './health-monitor';
import { isGatewayMessage, ToPrimary, ToWorker } from './messages';
import { RestartBackoff } from './restart-backoff';

/** How often the primary looks for new health findings to hand to the workers. */
const HEALTH_PUBLISH_MS = 200;
/** How long a worker may take to acknowledge a config before the reload is rolled back. */
const APPLY_TIMEOUT_MS = 15_000;

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  backoff: RestartBackoff;
}

/**
 * The primary of cluster mode. It reads and validates the routes file (once, for all workers),
 * forks the workers, sends each the config, runs the health checks and publishes their findings,
 * assembles /metrics from every worker, reloads all workers or none, restarts a worker that died
 * (with backoff), and forwards SIGTERM, SIGINT and SIGHUP.
 */
export class ClusterPrimary {
  private readonly slots: Slot[] = [];
  private config: GatewayConfig;
  private readonly monitor: ClusterHealthMonitor;
  private readonly reloader: ConfigReloader;
  private readonly watcher: ConfigWatcher;
  /** The primary's own series (reload counts), added to the workers' at every scrape. */
  private readonly metrics = new GatewayMetrics();
  private nextId = 1;
  private readonly pending = new Map<number, { expect: Set<Worker>; results: Map<Worker, unknown>; done: () => void }>();
  private publishedFindings = '';
  private publisher: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly file: string,
    env: () => Env,
    config: GatewayConfig,
    private readonly logger: Logger,
    private readonly count: number,
  ) {
    this.config = config;
    this.monitor = new ClusterHealthMonitor(logger);
    this.reloader = new ConfigReloader(file, env, { current: () => this.config, swap: (next) => this.applyEverywhere(next) }, logger, readConfigFile(file));
    this.reloader.onOutcome = (outcome) => {
      this.metrics.reloads.inc({ result: outcome.result });
      if (outcome.result === 'success') this.metrics.lastReloadSuccess.set(Date.now() / 1000);
      this.broadcast({ type: 'gw:reload-state', state: this.reloader.state });
    };
    this.watcher = new ConfigWatcher(file, () => void this.reloader.reload('file'));
  }

  start(): void {
    this.monitor.apply(this.config);
    this.publisher = setInterval(() => this.publishHealth(), HEALTH_PUBLISH_MS);
    for (let i = 0; i < this.count; i++) {
      const slot: Slot = { worker: undefined, startedAt: 0, backoff: new RestartBackoff() };
      this.slots.push(slot);
      this.fork(slot);
    }
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    this.watcher.start();
    process.on('SIGHUP', () => void this.reloader.reload('signal', true));
    process.once('SIGTERM', () => void this.stop('SIGTERM'));
    process.once('SIGINT', () => void this.stop('SIGINT'));
    this.logger.info('cluster primary started', { workers: this.count, file: this.file, pid: process.pid });
  }

  private live(): Worker[] {
    return this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined && w.isConnected());
  }

  private broadcast(message: ToWorker): void {
    for (const w of this.live()) w.send(message);
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork();
    slot.worker = worker;
    slot.startedAt = Date.now();
    // A send to a worker that is going away fails on its channel: that worker's exit handles it.
    worker.on('error', (err: Error) => this.logger.warn('worker channel error', { pid: worker.process.pid, error: err.message }));
    worker.on('message', (message: unknown) => {
      if (isGatewayMessage<ToPrimary>(message)) void this.onMessage(worker, message);
    });
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.slots.find((s) => s.worker === worker);
    if (!slot) return;
    slot.worker = undefined;
    for (const p of this.pending.values()) if (p.expect.delete(worker) && p.expect.size === 0) p.done();
    if (this.stopping) return;
    const delay = slot.backoff.next(Date.now() - slot.startedAt);
    this.logger.error('worker exited; restarting it', { pid: worker.process.pid, code, signal, restartInMs: delay });
    setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, delay).unref();
  }

  private async onMessage(worker: Worker, message: ToPrimary): Promise<void> {
    switch (message.type) {
      case 'gw:config-applied':
      case 'gw:metrics-json': {
        const p = this.pending.get(message.id);
        if (!p || !p.expect.has(worker)) return;
        p.results.set(worker, message.type === 'gw:metrics-json' ? message.metrics : message.error);
        p.expect.delete(worker);
        if (p.expect.size === 0) p.done();
        return;
      }
      case 'gw:metrics-ask':
        try {
          worker.send({ type: 'gw:metrics-text', id: message.id, text: await this.clusterMetrics() } satisfies ToWorker);
        } catch (err) {
          worker.send({ type: 'gw:metrics-text', id: message.id, error: err instanceof Error ? err.message : String(err) } satisfies ToWorker);
        }
        return;
      case 'gw:reload-ask':
        worker.send({ type: 'gw:reload-outcome', id: message.id, outcome: await this.reloader.reload('admin', true) } satisfies ToWorker);
        return;
      case 'gw:hello':
        worker.send({ type: 'gw:config', id: 0, config: this.config } satisfies ToWorker);
        worker.send({ type: 'gw:health', findings: this.monitor.findings() } satisfies ToWorker);
        worker.send({ type: 'gw:reload-state', state: this.reloader.state } satisfies ToWorker);
        return;
      case 'gw:listening':
        this.logger.info('worker listening', { pid: worker.process.pid });
        return;
    }
  }

  /** Sends `make(id)` to every live worker and waits for each answer (or its exit), up to `timeoutMs`. */
  private gather(make: (id: number) => ToWorker, timeoutMs: number): Promise<Map<Worker, unknown>> {
    const id = this.nextId++;
    const workers = this.live();
    return new Promise((resolve) => {
      const results = new Map<Worker, unknown>();
      const timer = setTimeout(() => finish(), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(id);
        for (const w of workers) if (!results.has(w)) results.set(w, `no answer within ${timeoutMs} ms`);
        resolve(results);
      };
      this.pending.set(id, { expect: new Set(workers), results, done: finish });
      if (workers.length === 0) return finish();
      for (const w of workers) w.send(make(id));
    });
  }

  /**
   * A reload, all workers or none: the file was validated before this is called (a bad file
   * never gets here); a worker that cannot compile the new config gets the whole cluster rolled
   * back to the previous one.
   */
  private async applyEverywhere(next: GatewayConfig): Promise<void> {
    const previous = this.config;
    const results = await this.gather((id) => ({ type: 'gw:config', id, config: next }), APPLY_TIMEOUT_MS);
    const failures = [...results.values()].filter((r): r is string => typeof r === 'string');
    if (failures.length > 0) {
      await this.gather((id) => ({ type: 'gw:config', id, config: previous }), APPLY_TIMEOUT_MS);
      throw new Error(`${failures.length} of ${results.size} workers could not apply it (${failures[0]}); every worker is back on the previous config`);
    }
    this.config = next;
    this.monitor.apply(next);
    this.publishHealth();
  }

  private publishHealth(): void {
    const findings = this.monitor.findings();
    const text = JSON.stringify(findings);
    if (text === this.publishedFindings) return;
    this.publishedFindings = text;
    this.broadcast({ type: 'gw:health', findings });
  }

  /**
   * /metrics of the whole cluster: every worker's series and the primary's own, added up by
   * prom-client's aggregator (counters and histogram buckets summed, states by their maximum).
   */
  async clusterMetrics(): Promise<string> {
    const results = await this.gather((id) => ({ type: 'gw:metrics-collect', id }), 5_000);
    const perWorker = [...results.values()].filter((r): r is object[] => Array.isArray(r));
    const own = await this.metrics.registry.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([...perWorker, own]).metrics();
  }

  /** SIGTERM: every worker stops gracefully (shutdown delay, drain); the primary exits when all have. */
  async stop(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.info('shutdown requested', { signal, workers: this.live().length });
    this.watcher.stop();
    if (this.publisher) clearInterval(this.publisher);
    const g = this.config.gateway;
    const grace = (parseDuration(g.shutdownDelay) ?? 0) + (parseDuration(g.drainTimeout) ?? 15_000) + 5_000;
    const exited = this.live().map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of this.live()) w.process.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const w of this.live()) w.process.kill('SIGKILL');
    }, grace);
    await Promise.all(exited);
    clearTimeout(killer);
    await this.monitor.close();
    this.logger.info('gateway stopped');
    process.exit(0);
  }
}
