import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors/catalog';
import type { BodyMemoryReleaser } from '../memory/body-memory-releaser';
import type { Logger } from '../observability/logger';
import type { BodyLimit } from '../pipeline/body-limit';
import type { GatewayRequest, Next, ResponseEnd } from '../pipeline/types';
import type { Deadline, DeadlineList } from './deadline-list';
import type { UpstreamInstance, UpstreamService } from './service';
import { streamEnd } from './stream-end';
import type { StreamEnd } from '../pipeline/types';
import { isConnectionFailure, upstreamErrorCode, upstreamFailure } from './upstream-error';

/** Upstream answers that count as the instance failing (for the circuit breaker). */
const FAILED_STATUSES = new Set([502, 503, 504]);

/** What an attempt needs of its route (src/upstream/route-proxy.ts): settings, timers, retries. */
export interface AttemptRoute {
  readonly service: UpstreamService;
  readonly timeoutMs: number;
  readonly undiciTimeoutMs: number;
  /** undici's body timeout: the route's streamIdleTimeout (the longest silence between two chunks). */
  readonly idleTimeoutMs: number;
  readonly deadlines: DeadlineList;
  readonly pauses: DeadlineList;
  /** Upstream statuses retried like a failed connection (the route's retry.on). */
  readonly retryStatuses: ReadonlySet<number>;
  readonly bodyMemory: BodyMemoryReleaser | null;
  readonly logger: Logger;
  readonly ends: readonly ResponseEnd[];
  responseHead(rawHeaders: Buffer[], req: GatewayRequest): string[] | OutgoingHttpHeaders;
  answered(req: GatewayRequest, res: ServerResponse): void;
  timeUpstream(instance: UpstreamInstance, seconds: number): void;
  /** Moves a failed attempt on to another instance; false when the request is not retried. */
  retry(failed: UpstreamAttempt): boolean;
}

/** Where an attempt is: waiting for the answer's head, relaying its body, dropping it (retried), over. */
const WAITING = 0;
const RELAYING = 1;
const DISCARDING = 2;
const DONE = 3;

/** Why a waiting attempt's deadline passed, which decides whom the failure counts against. */
const NOT_EXPIRED = 0;
/** The instance had the request and did not answer in time: a failure of the instance. */
const UPSTREAM_SLOW = 1;
/**
 * The attempt never got a connection: all of the pool's were busy with other requests (slow
 * readers, say). That says nothing about the instance; the instance's own slow answers are
 * counted on the attempts that hold those connections.
 */
const NO_FREE_CONNECTION = 2;

/** The error an attempt is cancelled with when the client leaves; nobody sees it. */
export const CLIENT_GONE = Object.assign(new Error('the client went away'), { code: 'GW_CLIENT_GONE' });
/** The error an attempt is cancelled with when its client stopped reading the answer. */
const CLIENT_TOO_SLOW = Object.assign(new Error('the client did not read the answer'), { code: 'GW_CLIENT_TOO_SLOW' });
/** The error an attempt is cancelled with when the gateway itself failed while relaying it. */
const GATEWAY_FAILED = Object.assign(new Error('the gateway failed while relaying the answer'), { code: 'GW_INTERNAL' });
const HEADERS_TIMEOUT = Object.assign(new Error('headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });

/**
 * One request to one instance, as an undici dispatch handler: the answer's head and body are
 * written straight into the client response, with no response stream, promise or AbortSignal in
 * between (each was a measurable share of the request path). undici's `onData` returning false
 * pauses the upstream socket until the client side drains. Every attempt reports to the
 * instance's circuit breaker, and only what the instance did counts: a client that sends or reads
 * slowly, or an exception of the gateway's own, is never an instance failure.
 */
export class UpstreamAttempt implements Dispatcher.DispatchHandler, Deadline {
  private phase = WAITING;
  private expiry = NOT_EXPIRED;
  private released = false;
  private abortUpstream: ((err?: Error) => void) | null = null;
  /** Set when the attempt was cancelled before undici handed it a connection. */
  private cancelled: Error | null = null;
  private resumeUpstream: (() => void) | null = null;
  /** Resumes the paused answer once the client has read what it was given; made on the first pause. */
  private clientDrained: (() => void) | null = null;
  private readonly sentAt = performance.now();
  deadlineAt = 0;
  deadlinePrev: Deadline | null = null;
  deadlineNext: Deadline | null = null;
  deadlineList: DeadlineList | null = null;
  /** Why the gateway cut this answer after relaying began (read by the access log and metrics). */
  endedBy: StreamEnd | undefined = undefined;

  constructor(
    private readonly route: AttemptRoute,
    readonly req: GatewayRequest,
    readonly res: ServerResponse,
    readonly next: Next,
    readonly instance: UpstreamInstance,
    readonly path: string,
    readonly headers: string[],
    readonly body: Buffer | BodyLimit | null,
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
    const { undiciTimeoutMs, idleTimeoutMs } = this.route;
    this.instance.pool.dispatch(
      { path: this.path, method: this.req.method as Dispatcher.HttpMethod, headers: this.headers, body: this.body, headersTimeout: undiciTimeoutMs, bodyTimeout: idleTimeoutMs },
      this,
    );
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.instance.inFlight--;
    this.deadlineList?.remove(this);
  }

  /** The client closed its connection before the answer was complete. */
  clientGone(): void {
    this.cancel(CLIENT_GONE);
  }

  /**
   * Called by the route's DeadlineLists: waiting, the route's timeout passed before the answer's
   * head came; relaying, the client left the answer unread for the whole body timeout.
   */
  expire(): void {
    if (this.phase === RELAYING) {
      this.route.logger.info('client stopped reading the answer; connection closed', { requestId: this.req.id, route: this.req.gatewayRoute?.name, pausedForMs: this.route.undiciTimeoutMs });
      this.abortUpstream?.(CLIENT_TOO_SLOW);
      return;
    }
    this.expiry = this.abortUpstream === null && this.instance.inFlight > this.instance.connections ? NO_FREE_CONNECTION : UPSTREAM_SLOW;
    this.cancel(HEADERS_TIMEOUT);
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

  /** The client's own body, relayed as it arrives (not bytes the gateway holds). */
  private streamsBody(): boolean {
    return this.body !== null && !Buffer.isBuffer(this.body);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.cancelled) {
      abort(this.cancelled);
      return;
    }
    this.abortUpstream = abort;
    // A streamed body goes up as fast as the client sends it, so the wait for the answer starts
    // once it was sent whole (onRequestSent): a slow client is never taken for a slow instance.
    // Meanwhile gateway.requestTimeout bounds the client, undici's headers timeout an upstream
    // that stops reading.
    if (this.streamsBody()) this.deadlineList?.remove(this);
  }

  /** undici wrote the last byte of the request. */
  onRequestSent(): void {
    if (this.phase === WAITING && this.streamsBody()) this.route.deadlines.add(this, performance.now());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    try {
      return this.relayHead(statusCode, rawHeaders, resume);
    } catch (thrown) {
      this.failInside(thrown);
      return false;
    }
  }

  private relayHead(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.phase !== WAITING) return true;
    if (statusCode < 200) return true; // interim (1xx) answers are not relayed
    const { req, res, instance, route } = this;
    this.deadlineList?.remove(this);
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
    try {
      if (this.res.write(chunk)) return true;
      this.pauseForClient();
    } catch (thrown) {
      this.failInside(thrown);
    }
    return false;
  }

  /** The client has not read what it was given yet: the answer waits, for the body timeout at most. */
  private pauseForClient(): void {
    this.clientDrained ??= () => {
      this.deadlineList?.remove(this);
      if (this.phase === RELAYING) this.resumeUpstream!();
    };
    this.res.once('drain', this.clientDrained);
    this.route.pauses.add(this, performance.now());
  }

  onComplete(): void {
    const phase = this.phase;
    this.phase = DONE;
    if (phase !== RELAYING) return;
    this.release();
    try {
      // The answer came before the upload was sent whole (a refusal): the rest is read and
      // dropped, so that the client's connection can carry its next request.
      if (this.streamsBody() && !this.req.readableEnded) this.dropBody();
      this.res.end();
      if (this.route.ends.length !== 0) this.route.answered(this.req, this.res);
    } catch (thrown) {
      this.failInside(thrown);
    }
  }

  onError(err: Error): void {
    try {
      this.settleFailure(err);
    } catch (thrown) {
      this.failInside(thrown);
    }
  }

  private settleFailure(err: Error): void {
    const phase = this.phase;
    this.phase = DONE;
    if (phase === DONE || phase === DISCARDING) return;
    const { res, instance } = this;
    this.deadlineList?.remove(this);
    this.dropBody();
    if (phase === RELAYING) {
      // The upstream died mid-answer (or the client left, or read too slowly): the client
      // connection must close, never wait for bytes that will not come.
      this.release();
      this.endedBy = streamEnd(err, CLIENT_GONE, CLIENT_TOO_SLOW);
      if (!res.destroyed) res.destroy();
      return;
    }
    if (err === CLIENT_GONE || res.destroyed) {
      instance.breaker.onAbandon();
      this.release();
      return;
    }
    const code = this.expiry !== NOT_EXPIRED ? 'UND_ERR_HEADERS_TIMEOUT' : upstreamErrorCode(err);
    // undici refused the request the gateway built (a header value it may not send): our failure.
    if (code === 'UND_ERR_INVALID_ARG') return this.failInside(err);
    if (this.expiry === NO_FREE_CONNECTION || err instanceof GatewayError) instance.breaker.onAbandon();
    else instance.breaker.onFailure(code || 'error');
    if (isConnectionFailure(code) && this.route.retry(this)) return;
    this.release();
    const { name } = this.route.service;
    this.next(
      this.expiry === NO_FREE_CONNECTION
        ? new GatewayError('GW_UPSTREAM_TIMEOUT', `No connection to service "${name}" became free within ${this.route.timeoutMs} ms`)
        : upstreamFailure(err, name, this.route.timeoutMs),
    );
  }

  /**
   * Ends the relay of a streamed body with the attempt. undici destroys the stream it was given;
   * the client's request itself stays intact (destroying it would reset the client connection
   * before its answer), and what the client still sends is read and dropped.
   */
  private dropBody(): void {
    const { body, req } = this;
    if (body === null || Buffer.isBuffer(body)) return;
    req.unpipe(body);
    body.destroy();
    if (!req.readableEnded) req.resume();
  }

  /**
   * The safety net of the undici callbacks: an exception of the gateway's own (a throwing
   * response header edit, a bug) ends this one request, counts against no instance, and the
   * process serves on. Before the answer's head: the error exit logs it with the request id and
   * answers 500; after it, the client connection is closed.
   */
  private failInside(thrown: unknown): void {
    const { req, res, instance } = this;
    this.phase = DONE;
    instance.breaker.onAbandon();
    this.release();
    this.abortUpstream?.(GATEWAY_FAILED);
    try {
      this.dropBody();
      if (res.headersSent) {
        this.route.logger.error('request failed inside the gateway after its answer started; connection closed', { requestId: req.id, error: thrown instanceof Error ? thrown.stack : String(thrown) });
        res.destroy();
        return;
      }
      // A head that failed half-way (a header value node refuses) leaves none of its headers behind.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      this.next(thrown);
    } catch (again) {
      this.route.logger.error('request failed inside the gateway; connection closed', { requestId: req.id, error: again instanceof Error ? again.stack : String(again) });
      res.destroy();
    }
  }
}
