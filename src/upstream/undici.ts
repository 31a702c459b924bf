import type { Agent as AgentClass, Dispatcher, Pool as PoolClass } from 'undici';

/**
 * The modules of undici reached by their private paths (not its public entry point), all here so
 * that one test (test/unit/upstream/undici-private-modules.test.ts) fails, naming the installed
 * undici version, when a release moves them.
 */
export const UNDICI_PRIVATE_MODULES = {
  pool: 'undici/lib/dispatcher/pool',
  agent: 'undici/lib/dispatcher/agent',
  util: 'undici/lib/core/util',
} as const;

/**
 * undici's Pool and Agent, loaded from their own modules: the package's entry point also loads
 * fetch, WebSocket, EventSource, caches and mocks. Measured on Node 20 with undici 7.30.2
 * (`node --expose-gc`, RSS after require + gc): 20.0 MiB for `require('undici')`, 11.4 MiB for
 * these three modules, ~8.6 MiB per process the gateway never uses (times each cluster worker).
 * Both are used only through `dispatch`, the interface the rest of undici is built on.
 */
export const Pool = require(UNDICI_PRIVATE_MODULES.pool) as typeof PoolClass;
export type Pool = PoolClass;
export const Agent = require(UNDICI_PRIVATE_MODULES.agent) as typeof AgentClass;
export type Agent = AgentClass;

/**
 * A response header name as undici hands it to a dispatch handler (bytes), lowercased. Well-known
 * names come from undici's own table of interned strings, with no string built per header:
 * measured 43 ns per name against 79 ns for `toString('latin1').toLowerCase()` (ten usual
 * response header names, 10^7 calls, Node 20).
 */
export const bufferToLowerCasedHeaderName = (require(UNDICI_PRIVATE_MODULES.util) as { bufferToLowerCasedHeaderName: (name: Buffer) => string }).bufferToLowerCasedHeaderName;

export interface SmallAnswer {
  statusCode: number;
  /** The body, up to `maxBytes`. */
  body: Buffer;
  /** The body was longer than `maxBytes`; the rest was read and dropped. */
  truncated: boolean;
  /** The answer's Content-Type, if it had one. */
  contentType: string | undefined;
}

export interface SmallRequestOptions extends Dispatcher.DispatchOptions {
  /** Body bytes kept at most; 0 to keep none (the body is still read, so the connection is reused). */
  maxBytes: number;
  /** Cancels the request; it fails with the signal's reason. */
  signal?: AbortSignal;
  /** Stop reading at `maxBytes` (answer `truncated` at once, connection closed) instead of draining the rest. */
  stopAtMaxBytes?: boolean;
}

/** Collects one answer for `smallRequest`. */
class SmallAnswerCollector implements Dispatcher.DispatchHandler {
  private statusCode = 0;
  private contentType: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;
  private abortRequest: ((err?: Error) => void) | null = null;
  private readonly onAbort = () => this.abortRequest?.(this.signal?.reason as Error);

  constructor(
    private readonly maxBytes: number,
    private readonly stopAtMaxBytes: boolean,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (answer: SmallAnswer) => void,
    private readonly reject: (err: Error) => void,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.signal?.aborted) abort(this.signal.reason as Error);
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    if (statusCode < 200) return true; // interim (1xx) answers are skipped
    this.statusCode = statusCode;
    for (let i = 0; rawHeaders && i + 1 < rawHeaders.length; i += 2) {
      if (rawHeaders[i].toString().toLowerCase() === 'content-type') this.contentType = rawHeaders[i + 1].toString();
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.size + chunk.length > this.maxBytes) {
      this.truncated = true;
      if (this.stopAtMaxBytes) {
        // Settled first, so the abort's error that follows is ignored by the promise.
        this.onComplete();
        this.abortRequest?.(new Error('answer larger than maxBytes'));
        return false;
      }
    } else {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    return true;
  }

  onComplete(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.resolve({ statusCode: this.statusCode, body: Buffer.concat(this.chunks, this.size), truncated: this.truncated, contentType: this.contentType });
  }

  onError(err: Error): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.reject(err);
  }
}

/**
 * A request whose answer is small and wanted whole (health probes, token validation): the status
 * and up to `maxBytes` of the body. Fails with undici's error (its `code` says what happened) or
 * with the signal's reason.
 */
export function smallRequest(dispatcher: Dispatcher, options: SmallRequestOptions): Promise<SmallAnswer> {
  const { maxBytes, signal, stopAtMaxBytes = false, ...dispatchOptions } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    dispatcher.dispatch(dispatchOptions, new SmallAnswerCollector(maxBytes, stopAtMaxBytes, signal, resolve, reject));
  });
}
