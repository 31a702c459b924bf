import type { GatewayConfig } from '../config/types';
import type { Logger } from '../observability/logger';
import type { ReloadControl, ReloadOutcome, ReloadStatus } from '../reload/reloader';
import { GatewayServer } from '../server/gateway-server';
import { isGatewayMessage, ToPrimary, ToWorker } from './messages';

function send(message: ToPrimary): void {
  process.send?.(message);
}

/** Questions to the primary and their answers, matched by id. */
class PrimaryLine {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: ToWorker) => void>();

  ask(question: (id: number) => ToPrimary, timeoutMs: number): Promise<ToWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      send(question(id));
    });
  }

  /** Whether `message` answered a question of ours. */
  answer(message: ToWorker & { id?: number }): boolean {
    if (message.type !== 'gw:metrics-text' && message.type !== 'gw:reload-outcome') return false;
    const done = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    done?.(message);
    return true;
  }
}

/** /admin/reload in a worker: the primary reloads the file for every worker at once. */
class PrimaryReloader implements ReloadControl {
  state: ReloadStatus;

  constructor(
    private readonly line: PrimaryLine,
    file: string,
  ) {
    this.state = { file, loadedAt: new Date().toISOString(), lastReloadAt: null, lastReloadResult: null, lastReloadError: null, reloads: { success: 0, failure: 0 } };
  }

  async reload(): Promise<ReloadOutcome> {
    const answer = await this.line.ask((id) => ({ type: 'gw:reload-ask', id }), 30_000);
    if (answer.type !== 'gw:reload-outcome') throw new Error(`unexpected answer ${answer.type}`);
    return answer.outcome;
  }
}

/**
 * A cluster worker: serves the config the primary sends (it never reads the routes file), takes
 * every reload from it and acknowledges it, follows the primary's health findings, and answers
 * scrapes with the cluster's totals. SIGTERM (forwarded by the primary) stops it gracefully; so
 * does losing the primary.
 */
export function runWorker(logger: Logger, options: { adminToken?: string; routesFile: string }): void {
  const line = new PrimaryLine();
  const reloader = new PrimaryReloader(line, options.routesFile);
  let server: GatewayServer | undefined;
  let stopping = false;

  const metricsText = async (): Promise<string> => {
    const answer = await line.ask((id) => ({ type: 'gw:metrics-ask', id }), 10_000);
    if (answer.type !== 'gw:metrics-text' || answer.text === undefined) throw new Error(answer.type === 'gw:metrics-text' ? answer.error : 'no metrics');
    return answer.text;
  };

  async function start(config: GatewayConfig, id: number): Promise<void> {
    server = new GatewayServer(config, logger, { adminToken: options.adminToken, followsHealth: true, metricsText, reloader });
    await server.listen();
    await server.listenManagement();
    send({ type: 'gw:config-applied', id });
    send({ type: 'gw:listening' });
  }

  async function onMessage(message: ToWorker): Promise<void> {
    if (line.answer(message)) return;
    switch (message.type) {
      case 'gw:config':
        if (server === undefined) return start(message.config, message.id);
        try {
          await server.swap(message.config);
          send({ type: 'gw:config-applied', id: message.id });
        } catch (err) {
          send({ type: 'gw:config-applied', id: message.id, error: err instanceof Error ? err.message : String(err) });
        }
        return;
      case 'gw:health':
        server?.followHealth(message.findings);
        return;
      case 'gw:reload-state':
        reloader.state = message.state;
        return;
      case 'gw:metrics-collect':
        send({ type: 'gw:metrics-json', id: message.id, metrics: server ? await server.metrics.registry.getMetricsAsJSON() : [] });
        return;
    }
  }

  process.on('message', (message: unknown) => {
    if (!isGatewayMessage<ToWorker>(message)) return;
    onMessage(message).catch((err: unknown) => {
      logger.error('worker could not apply a message from the primary', { type: message.type, error: err instanceof Error ? err.message : String(err) });
      if (server === undefined) process.exit(1);
    });
  });

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('worker stopping', { reason, pid: process.pid });
    (server ? server.stop() : Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  // Ctrl-C reaches the whole process group; the primary forwards SIGTERM as well.
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('disconnect', () => stop('the primary went away'));
  send({ type: 'gw:hello' });
}
