import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { parseSize } from '../config/units';
import { GatewayError } from '../errors/catalog';
import { BodyMemoryReleaser } from '../memory/body-memory-releaser';
import { collectYoungGeneration } from '../memory/young-generation-gc';
import type { GatewayMetrics } from '../observability/metrics';
import { upstreamTarget } from '../routing/rewrite';
import { DeadlineList, type Deadline } from '../upstream/deadline-list';
import { RetryBudget } from '../upstream/retry-budget';
import type { UpstreamInstance, UpstreamService } from '../upstream/service';
import { BodyLimit } from './body-limit';
import { readBody } from './read-body';
import { clientResponseHead, clientResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import type { GatewayRequest, Handler, HeaderList, Next, ResponseHeaderEdit, StageFactory } from './types';

const NO_HEADERS: HeaderList = [];

/** Bodies up to this size are held in memory when the request may be retried, so they can be re-sent. */
export const REPLAY_BUFFER_LIMIT = 64 * 1024;

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT', 'UND_ERR_CONNECT_TIMEOUT']);
const RESETS = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
/** Upstream answers that count as the instance failing (for the circuit breaker). */
const FAILED_STATUSES = new Set([502, 503, 504]);

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  return String(e?.code ?? e?.cause?.code ?? '');
}

/** Maps an undici failure that happened before any response byte to the gateway's answer. */
export function upstreamFailure(err: unknown, service: string, timeoutMs: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = errorCode(err);
  if (TIMEOUTS.has(code) || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', `Service "${service}" did not answer within ${timeoutMs} ms`);
  }
  if (CONNECT_FAILURES.has(code)) {
    return new GatewayError('GW_UPSTREAM_UNAVAILABLE', `Service "${service}" could not be reached (${code})`);
  }
  if (RESETS.has(code)) {
    return new GatewayError('GW_UPSTREAM_RESET', `Service "${service}" closed the connection before answering`);
  }
  return new GatewayError('GW_UPSTREAM_ERROR', `The request to service "${service}" failed (${code || 'unknown error'})`);
}

function requestHasBody(req: GatewayRequest): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** What every attempt of one route shares, worked out once per compiled config. */
class RouteProxy {
  readonly retryMethods: ReadonlySet<string>;
  readonly retryStatuses: ReadonlySet<number>;
  readonly budget: RetryBudget | undefined;
  readonly attempts: number;
  /** Every waiting attempt's deadline (the route's timeout), under one timer. */
  readonly deadlines: DeadlineList;
  /**
   * undici's own timeouts: for the headers, a backstop to the deadline list, a second later
   * because undici's clock ticks every ~0.5 s and may fire that much early; for the body, the
   * longest silence allowed between two chunks. One value for both: undici then refreshes one
   * timer when the answer's head arrives instead of replacing it.
   */
  readonly undiciTimeoutMs: number;
  private readonly retriesCounter;
  private readonly upstreamTimers;
  /** The names in the last answer-headers list seen (one list per compiled config) and the request id's. */
  private ownList: HeaderList = [];
  private ownNames: ReadonlySet<string> = new Set(['x-request-id']);

  constructor(
    readonly service: UpstreamService,
    readonly timeoutMs: number,
    readonly edits: readonly ResponseHeaderEdit[],
    readonly droppedResponseHeaders: ReadonlySet<string>,
    retry: { methods: readonly string[]; on: readonly number[]; attempts: number; budget: ConstructorParameters<typeof RetryBudget>[0] },
    metrics: GatewayMetrics,
    now: () => number,
    /** Counts the body bytes relayed both ways; null when gateway.releaseBodyMemoryEvery is 0. */
    readonly bodyMemory: BodyMemoryReleaser | null,
  ) {
    this.retryMethods = new Set(retry.methods);
    this.retryStatuses = new Set(retry.on);
    this.attempts = retry.attempts;
    this.deadlines = new DeadlineList(timeoutMs);
    this.undiciTimeoutMs = timeoutMs + 1000;
    this.budget = retry.attempts > 1 ? new RetryBudget(retry.budget, now) : undefined;
    this.retriesCounter = metrics.retries.labels({ service: service.name });
    this.upstreamTimers = new Map(service.instances.map((i) => [i, metrics.upstreamDuration.labels({ service: service.name, upstream: i.url })]));
  }

  /** The client response head for an upstream answer: the gateway's own headers join the upstream's. */
  responseHead(rawHeaders: Buffer[], req: GatewayRequest): string[] | OutgoingHttpHeaders {
    const own = req.answerHeaders ?? NO_HEADERS;
    if (this.edits.length === 0) {
      if (own !== this.ownList) {
        this.ownList = own;
        this.ownNames = new Set([...own.map(([name]) => name), 'x-request-id']);
      }
      return clientResponseHead(rawHeaders, this.droppedResponseHeaders, own, this.ownNames, req.id);
    }
    const headers = clientResponseHeaders(rawHeaders, this.droppedResponseHeaders);
    for (let i = 0; i < this.edits.length; i++) this.edits[i](headers, req);
    // The upstream's or a transform's value of the same name wins over the gateway's own.
    for (let i = 0; i < own.length; i++) if (headers[own[i][0]] === undefined) headers[own[i][0]] = own[i][1];
    if (headers['x-request-id'] === undefined) headers['x-request-id'] = req.id;
    return headers;
  }

  timeUpstream(instance: UpstreamInstance, seconds: number): void {
    this.upstreamTimers.get(instance)?.observe(seconds);
  }

  /** Moves a failed attempt on to another instance if the request may still be retried. */
  retry(failed: UpstreamAttempt): boolean {
    const { req, res } = failed;
    if (!failed.replayable || req.retries + 1 >= this.attempts || res.destroyed) return false;
    const target = this.nextInstance(failed.instance);
    if (!target || !this.budget?.tryAcquire()) return false;
    failed.release();
    req.retries++;
    this.retriesCounter.inc();
    new UpstreamAttempt(this, req, res, failed.next, target, failed.path, failed.headers, failed.body, true).send();
    return true;
  }

  /** The instance for the next attempt: another one when it exists, else the only one. */
  private nextInstance(previous: UpstreamInstance): UpstreamInstance | undefined {
    const other = this.service.balancer.pick(previous);
    if (other) return other;
    return this.service.instances.length === 1 && previous.available() ? previous : undefined;
  }
}

/** Where an attempt is: waiting for the answer's head, relaying its body, dropping it (retried), over. */
const WAITING = 0;
const RELAYING = 1;
const DISCARDING = 2;
const DONE = 3;

/** The error an attempt is cancelled with when the client leaves; nobody sees it. */
const CLIENT_GONE = Object.assign(new Error('the client went away'), { code: 'GW_CLIENT_GONE' });

/**
 * One request to one instance, as an undici dispatch handler: the answer's head and body are
 * written straight into the client response, with no response stream, promise or AbortSignal in
 * between (each was a measurable share of the request path). undici's `onData` returning false
 * pauses the upstream socket until the client side drains. Every attempt reports to the
 * instance's circuit breaker.
 */
class UpstreamAttempt implements Dispatcher.DispatchHandler, Deadline {
  private phase = WAITING;
  private timedOut = false;
  private released = false;
  private abortUpstream: ((err?: Error) => void) | null = null;
  /** Set when the attempt was cancelled before undici handed it a connection. */
  private cancelled: Error | null = null;
  private resumeUpstream: (() => void) | null = null;
  private readonly sentAt = performance.now();
  deadlineAt = 0;
  deadlinePrev: Deadline | null = null;
  deadlineNext: Deadline | null = null;
  deadlineList: DeadlineList | null = null;

  constructor(
    private readonly route: RouteProxy,
    readonly req: GatewayRequest,
    readonly res: ServerResponse,
    readonly next: Next,
    readonly instance: UpstreamInstance,
    readonly path: string,
    readonly headers: string[],
    readonly body: Buffer | Readable | null,
    readonly replayable: boolean,
  ) {
    req.upstream = instance;
    req.exchange = this;
    instance.inFlight++;
    instance.breaker.onStart();
    // undici's own timers tick in ~0.5 s steps; the route's timeout is kept to the millisecond.
    route.deadlines.add(this, this.sentAt);
  }

  send(): void {
    const { undiciTimeoutMs } = this.route;
    this.instance.pool.dispatch(
      { path: this.path, method: this.req.method as Dispatcher.HttpMethod, headers: this.headers, body: this.body, headersTimeout: undiciTimeoutMs, bodyTimeout: undiciTimeoutMs },
      this,
    );
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.instance.inFlight--;
    this.route.deadlines.remove(this);
  }

  /** The client closed its connection before the answer was complete. */
  clientGone(): void {
    this.cancel(CLIENT_GONE);
  }

  /** The route's timeout passed before the answer's head came (called by the route's DeadlineList). */
  expire(): void {
    this.timedOut = true;
    this.cancel(Object.assign(new Error('headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' }));
  }

  private cancel(reason: Error): void {
    if (this.phase === DONE || this.phase === DISCARDING) return;
    if (this.abortUpstream) {
      this.abortUpstream(reason); // undici reports it back through onError
    } else {
      // Still queued for a connection: settle now; onConnect aborts when undici gets to it.
      this.cancelled = reason;
      this.onError(reason);
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.cancelled) abort(this.cancelled);
    else this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.phase !== WAITING) return true;
    if (statusCode < 200) return true; // interim (1xx) answers are not relayed
    const { req, res, instance, route } = this;
    route.deadlines.remove(this);
    route.timeUpstream(instance, (performance.now() - this.sentAt) / 1000);
    if (res.destroyed) {
      // The client left and its close is still on its way: nobody to relay this answer to.
      instance.breaker.onAbandon();
      this.phase = DONE;
      this.release();
      this.abortUpstream?.(CLIENT_GONE);
      return false;
    }
    if (FAILED_STATUSES.has(statusCode)) instance.breaker.onFailure(`status ${statusCode}`);
    else instance.breaker.onSuccess();
    if (route.retryStatuses.has(statusCode)) {
      this.phase = DISCARDING; // the rest of this answer is read and dropped, keeping the connection
      if (route.retry(this)) return true;
      this.phase = WAITING;
    }
    // The gateway's own headers go in the same head: with nothing set before, node writes it in one pass.
    res.writeHead(statusCode, route.responseHead(rawHeaders, req));
    this.phase = RELAYING;
    this.resumeUpstream = resume;
    return true;
  }

  /**
   * undici wrote a chunk of the request body to the upstream. Its types promise the chunk's size,
   * its code passes the chunk itself: both are taken.
   */
  onBodySent(chunk: number | Buffer | string): void {
    this.route.bodyMemory?.relayed(typeof chunk === 'number' ? chunk : chunk.length);
  }

  onData(chunk: Buffer): boolean {
    this.route.bodyMemory?.relayed(chunk.length);
    if (this.phase !== RELAYING) return true;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resumeUpstream!);
    return false;
  }

  onComplete(): void {
    const phase = this.phase;
    this.phase = DONE;
    if (phase !== RELAYING) return;
    this.release();
    this.res.end();
  }

  onError(err: Error): void {
    const phase = this.phase;
    this.phase = DONE;
    if (phase === DONE || phase === DISCARDING) return;
    const { req, res, instance, body } = this;
    this.route.deadlines.remove(this);
    // A body of the gateway's own making (a size counter) ends with the attempt; the client's
    // request stream is left to node, which drains or closes it once the answer is written.
    if (body !== null && !Buffer.isBuffer(body) && body !== req) body.destroy();
    if (phase === RELAYING) {
      // The upstream died mid-answer (or the client left): the client connection must close,
      // never wait for bytes that will not come.
      this.release();
      if (!res.destroyed) res.destroy();
      return;
    }
    if (err === CLIENT_GONE || res.destroyed) {
      instance.breaker.onAbandon();
      this.release();
      return;
    }
    const code = this.timedOut ? 'UND_ERR_HEADERS_TIMEOUT' : errorCode(err);
    if (!(err instanceof GatewayError)) instance.breaker.onFailure(code || 'error');
    if ((CONNECT_FAILURES.has(code) || RESETS.has(code)) && this.route.retry(this)) return;
    this.release();
    this.next(upstreamFailure(err, this.route.service.name, this.route.timeoutMs));
  }
}

/**
 * The last stage: sends the request to the chosen instance through its undici Pool and relays the
 * answer, both ways without buffering. A client that goes away cancels the upstream request; an
 * upstream that dies mid-answer closes the client connection. Idempotent requests are retried on
 * another instance when the connection failed before any answer or the answer is one of `retry.on`.
 */
export const createProxyStage: StageFactory = (route, config, deps) => {
  const { prefix, rewrite, timeoutMs, maxBodyBytes, service } = route;
  const bodyMemory = deps.shared('body-memory-releaser', () => {
    const every = parseSize(config.gateway.releaseBodyMemoryEvery) ?? 0;
    return every > 0 ? new BodyMemoryReleaser(every, collectYoungGeneration) : null;
  });
  const proxy = new RouteProxy(service, timeoutMs, route.responseHeaderEdits, route.droppedResponseHeaders, route.config.retry, deps.metrics, deps.now, bodyMemory);

  return function proxyStage(req: GatewayRequest, res: ServerResponse, next) {
    const first = req.upstream;
    if (!first) {
      next(new GatewayError('GW_INTERNAL', 'No upstream instance was selected'));
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      next(new GatewayError('GW_PAYLOAD_TOO_LARGE', `The request body (${declared} bytes) exceeds this route's limit of ${maxBodyBytes} bytes`, { connection: 'close' }));
      return;
    }
    proxy.budget?.recordRequest();
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && requestHasBody(req);
    const mayRetry = proxy.budget !== undefined && proxy.retryMethods.has(req.method ?? '');
    const path = upstreamTarget(req.url ?? '/', prefix, rewrite);
    const headers = upstreamRequestHeaders(req, deps.clientIp.trustsPeer(req.socket.remoteAddress ?? ''));
    if (req.body !== undefined) {
      // Already read whole (validation): these exact bytes go upstream, and may be re-sent.
      new UpstreamAttempt(proxy, req, res, next, first, path, headers, req.body, mayRetry).send();
    } else if (!hasBody) {
      new UpstreamAttempt(proxy, req, res, next, first, path, headers, null, mayRetry).send();
    } else if (mayRetry && declared !== undefined && Number(declared) <= REPLAY_BUFFER_LIMIT) {
      readBody(req, REPLAY_BUFFER_LIMIT).then(
        (body) => {
          if (!res.destroyed) new UpstreamAttempt(proxy, req, res, next, first, path, headers, body, true).send();
        },
        () => undefined, // the client went away while sending; nothing to answer
      );
    } else {
      // A streamed body can be sent once only: no retries.
      let body: Readable = req;
      if (declared === undefined) {
        body = req.pipe(new BodyLimit(maxBodyBytes));
        req.once('error', (err) => body.destroy(err));
      }
      const attempt = new UpstreamAttempt(proxy, req, res, next, first, path, headers, body, false);
      // undici listens to the body only once it is writing it; an error while queued is ours.
      body.on('error', (err) => attempt.onError(err));
      attempt.send();
    }
  } satisfies Handler;
};
