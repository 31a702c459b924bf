import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Env } from '../config/env';
import type { CheckReply, CheckRequest, MoreRoutes, RouteBatch } from './config-check-worker';

export interface OffThreadCheckOptions {
  /** A check still running after this is abandoned (the worker is stopped) and the reload fails. */
  timeoutMs: number;
  /** Heap of the worker: a file that needs more fails its reload instead of exhausting the process. */
  maxHeapMb: number;
  maxProblems: number;
}

/** How long the checking thread outlives its last check (a burst of saves reuses it). */
const IDLE_WORKER_MS = 30_000;

export const DEFAULT_CHECK_OPTIONS: OffThreadCheckOptions = { timeoutMs: 30_000, maxHeapMb: 512, maxProblems: 100 };

/**
 * Running from the TypeScript sources (the tests), the worker compiles each module as it is
 * required, the way ts-jest does for the test itself; the built gateway runs plain JavaScript.
 */
function fromSources(entry: string): string {
  return `
const ts = require(${JSON.stringify(require.resolve('typescript'))});
const { readFileSync } = require('node:fs');
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  });
  module._compile(out.outputText, filename);
};
require(${JSON.stringify(entry)});
`;
}

function startWorker(maxHeapMb: number): Worker {
  const built = join(__dirname, 'config-check-worker.js');
  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb };
  const worker = existsSync(built) ? new Worker(built, { resourceLimits }) : new Worker(fromSources(join(__dirname, 'config-check-worker.ts')), { eval: true, resourceLimits });
  // Never what keeps the process alive: shutdown does not have to remember it.
  worker.unref();
  return worker;
}

let shared: OffThreadConfigCheck | undefined;

/**
 * The checker reloaders share by default: one worker per process however many gateways it runs
 * (tests run many), started once. It never keeps the process alive.
 */
export function sharedConfigCheck(): OffThreadConfigCheck {
  shared ??= new OffThreadConfigCheck();
  return shared;
}

export type OffThreadResult = Exclude<CheckReply, { unreadable: string }> | { unreadable: string };

/**
 * Checks routes files in a worker thread, one at a time, reusing the worker between reloads. A
 * check that overruns its time or memory stops the worker (a new one starts for the next check)
 * and comes back as a reason, never as a blocked or crashed gateway.
 */
export class OffThreadConfigCheck {
  private worker: Worker | undefined;
  private nextId = 1;
  /** Stops an idle worker: a thread holds ~10 MiB, and reloads are rare. */
  private idleTimer: NodeJS.Timeout | undefined;
  private checking = 0;

  constructor(private readonly options: OffThreadCheckOptions = DEFAULT_CHECK_OPTIONS) {}

  check(file: string, env: Env): Promise<OffThreadResult> {
    clearTimeout(this.idleTimer);
    this.checking++;
    const worker = (this.worker ??= startWorker(this.options.maxHeapMb));
    const request: CheckRequest = { id: this.nextId++, file, env, maxProblems: this.options.maxProblems };
    return new Promise((resolve) => {
      const settle = (result: OffThreadResult, stop: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        this.checking--;
        if (stop) this.stop(worker);
        else if (this.checking === 0) {
          this.idleTimer = setTimeout(() => this.close(), IDLE_WORKER_MS);
          this.idleTimer.unref();
        }
        resolve(result);
      };
      // A large config's routes follow its reply in parts, each decoded in its own turn.
      let assembling: Extract<CheckReply, { hash: string }> | undefined;
      const onMessage = (reply: CheckReply | RouteBatch) => {
        if (reply.id !== request.id) return;
        if ('routes' in reply) {
          if (!assembling?.config) return;
          assembling.config.routes.push(...reply.routes);
          if (assembling.config.routes.length >= (assembling.routesToFollow ?? 0) || reply.routes.length === 0) settle(assembling, false);
          else worker.postMessage({ id: request.id, more: true } satisfies MoreRoutes);
          return;
        }
        if ('routesToFollow' in reply && reply.routesToFollow !== undefined) {
          assembling = reply;
          worker.postMessage({ id: request.id, more: true } satisfies MoreRoutes);
        } else settle(reply, false);
      };
      const onError = (err: Error) => {
        const why = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? `needs more than ${this.options.maxHeapMb} MiB to check` : `could not be checked: ${err.message}`;
        settle({ unreadable: `${file}: the file ${why}; the previous config keeps serving` }, true);
      };
      const onExit = () => settle({ unreadable: `${file}: the file could not be checked (the checking thread stopped); the previous config keeps serving` }, true);
      const timer = setTimeout(
        () => settle({ unreadable: `${file}: checking the file took longer than ${this.options.timeoutMs} ms, so it was abandoned; the previous config keeps serving` }, true),
        this.options.timeoutMs,
      );
      timer.unref();
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request);
    });
  }

  /**
   * Starts the worker now and waits until it has checked a small built-in config (loading and
   * compiling everything a check needs), so the first reload does not pay for the start.
   */
  async warmUp(): Promise<void> {
    await this.check('', {});
  }

  /** Stops the worker; a later check starts a new one. */
  close(): void {
    if (this.worker) this.stop(this.worker);
  }

  private stop(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate();
  }
}
