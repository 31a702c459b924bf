import type { ServiceOpenApiConfig } from '../config/types';
import { parseDuration, parseSize } from '../config/units';
import type { Logger } from '../observability/logger';
import { Agent, smallRequest } from '../upstream/undici';
import { parseServiceDocument, ServiceDocument } from './service-document';

/** The first retry after a failed fetch; it doubles up to `refresh`. */
const FIRST_RETRY_MS = 1_000;
/**
 * The longest wait between two tries while fetches fail: a service that comes up after an hour of
 * being down gets its document within seconds, not at the next `refresh`.
 */
const MAX_RETRY_MS = 10_000;

/**
 * The origin (scheme://host:port) of an instance to fetch from now, or undefined when the service
 * has none available. A function, not a list: the instances a service has change (health,
 * circuit, discovery), and each fetch follows what the service says at that moment.
 */
export type OriginPicker = () => string | undefined;

/** What a document source needs: whom to tell, and the clock. */
export interface DocumentSourceDeps {
  logger: Logger;
  now: () => number;
  /** Told after every fetch (a metric counts them). */
  fetched: (service: string, result: 'success' | 'failure') => void;
}

/** What /docs and /services say about a service's document. */
export interface DocumentStatus {
  path: string;
  /** pending: no fetch finished yet; ok: the last fetch succeeded; failed: it did not (the last good document, if any, stays). */
  state: 'pending' | 'ok' | 'failed';
  /** When the document shown was fetched, and from which instance. */
  fetchedAt: string | null;
  fetchedFrom: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
}

/**
 * One service's OpenAPI document, fetched in the background and kept: never on a request's path.
 * The first fetch starts with `start()`, then one every `refresh` (sooner after a failure). A failed
 * fetch (no instance, an error status, a timeout, a document too large or invalid) keeps the last
 * good document and is reported: a warning in the log, the metric, and `status()`.
 */
export class ServiceDocumentSource {
  private current: ServiceDocument | undefined;
  private readonly info: DocumentStatus;
  private timer: NodeJS.Timeout | undefined;
  private inProgress: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private started = false;
  private readonly refreshMs: number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  /** Its own small agent: a document fetch never takes a connection of the request pool. */
  private readonly agent = new Agent({ connections: 1, keepAliveTimeout: 5_000 });
  private origin: OriginPicker = () => undefined;

  constructor(
    readonly service: string,
    readonly settings: ServiceOpenApiConfig,
    private readonly deps: DocumentSourceDeps,
  ) {
    this.refreshMs = parseDuration(settings.refresh) ?? 300_000;
    this.timeoutMs = parseDuration(settings.timeout) ?? 5_000;
    this.maxBytes = parseSize(settings.maxSize) ?? 5 * 1024 * 1024;
    this.info = { path: settings.path, state: 'pending', fetchedAt: null, fetchedFrom: null, lastAttemptAt: null, lastError: null, consecutiveFailures: 0 };
  }

  /** The last good document, if any. */
  get document(): ServiceDocument | undefined {
    return this.current;
  }

  status(): DocumentStatus {
    return { ...this.info };
  }

  /** Where the next fetches go: the service of the gateway now serving (a reload may bring a new one). */
  follow(origin: OriginPicker): void {
    this.origin = origin;
  }

  /** Starts the fetch loop; a second call (a reload that kept this source) does nothing. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** One fetch now (tests, and the loop); concurrent callers share the fetch in progress. */
  refresh(): Promise<void> {
    this.inProgress ??= this.fetchOnce().finally(() => {
      this.inProgress = undefined;
    });
    return this.inProgress;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    await this.agent.close().catch(() => this.agent.destroy());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().then(() => this.schedule(this.nextDelay()));
    }, delayMs);
    this.timer.unref();
  }

  private nextDelay(): number {
    if (this.info.consecutiveFailures === 0) return this.refreshMs;
    return Math.min(this.refreshMs, MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(this.info.consecutiveFailures - 1, 10));
  }

  private async fetchOnce(): Promise<void> {
    const origin = this.origin();
    this.info.lastAttemptAt = new Date(this.deps.now()).toISOString();
    if (origin === undefined) return this.failed('no available instance to fetch the document from', undefined);
    this.abort = new AbortController();
    const timer = setTimeout(() => this.abort?.abort(new Error(`no complete answer within ${this.settings.timeout}`)), this.timeoutMs);
    try {
      const answer = await smallRequest(this.agent, {
        origin,
        path: this.settings.path,
        method: 'GET',
        headers: { accept: 'application/json, application/yaml;q=0.9', 'user-agent': 'tracseq-gateway-docs' },
        maxBytes: this.maxBytes,
        stopAtMaxBytes: true,
        signal: this.abort.signal,
      });
      if (this.stopped) return;
      if (answer.truncated) return this.failed(`the document is larger than maxSize ${this.settings.maxSize}; refused`, origin);
      if (answer.statusCode !== 200) return this.failed(`status ${answer.statusCode} from ${origin}${this.settings.path}`, origin);
      const parsed = parseServiceDocument(answer.body, answer.contentType);
      if ('error' in parsed) return this.failed(`invalid document: ${parsed.error}`, origin);
      this.current = parsed.document;
      const recovered = this.info.consecutiveFailures > 0;
      Object.assign(this.info, { state: 'ok', fetchedAt: new Date(this.deps.now()).toISOString(), fetchedFrom: origin, lastError: null, consecutiveFailures: 0 });
      this.deps.fetched(this.service, 'success');
      if (recovered) this.deps.logger.info('service OpenAPI document fetched again', { service: this.service, instance: origin });
    } catch (err) {
      if (this.stopped) return;
      const e = err as { code?: string; message?: string };
      const why = this.abort.signal.aborted ? String((this.abort.signal.reason as Error)?.message ?? 'timeout') : (e.code ?? e.message ?? 'error');
      this.failed(`fetch failed: ${why}`, origin);
    } finally {
      clearTimeout(timer);
      this.abort = undefined;
    }
  }

  private failed(reason: string, origin: string | undefined): void {
    if (this.stopped) return;
    this.info.state = 'failed';
    this.info.lastError = reason;
    this.info.consecutiveFailures++;
    this.deps.fetched(this.service, 'failure');
    // Logged on the first failure of a run and then sparsely, so a service that stays down does not flood the log.
    const n = this.info.consecutiveFailures;
    if ((n & (n - 1)) === 0) {
      this.deps.logger.warn('service OpenAPI document fetch failed', {
        service: this.service,
        instance: origin ?? null,
        path: this.settings.path,
        reason,
        consecutiveFailures: n,
        keeping: this.current ? `the document fetched at ${this.info.fetchedAt}` : 'no document yet: the route entries are shown',
      });
    }
  }
}
