import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { BodyMemoryReleaser } from '../memory/body-memory-releaser';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { clientResponseHead, clientResponseHeaders } from '../pipeline/proxy-headers';
import type { GatewayRequest, HeaderList, ResponseEnd, ResponseHeaderEdit } from '../pipeline/types';
import { UpstreamAttempt, type AttemptRoute } from './attempt';
import { DeadlineList } from './deadline-list';
import { RetryPolicy, type RetrySettings } from './retry';
import type { UpstreamInstance, UpstreamService } from './service';

const NO_HEADERS: HeaderList = [];

/** What every attempt of one route shares, worked out once per compiled config. */
export class RouteProxy implements AttemptRoute {
  readonly retries: RetryPolicy;
  /** The policy's statuses, one property away for the attempt that reads them on every answer. */
  readonly retryStatuses: ReadonlySet<number>;
  /** Every waiting attempt's deadline (the route's timeout), under one timer. */
  readonly deadlines: DeadlineList;
  /**
   * Attempts whose answer is paused because the client does not read it, each until it may stay
   * paused no longer (the route's timeout plus a second, whatever its streamIdleTimeout): a client
   * that reads this slowly is cut off, so it cannot hold an upstream connection for ever. undici's
   * own body timeout never fires while paused.
   */
  readonly pauses: DeadlineList;
  /**
   * undici's headers timeout: a backstop to the deadline list, a second later because undici's
   * clock ticks every ~0.5 s and may fire that much early. Also how long a paused answer may wait
   * for its client.
   */
  readonly undiciTimeoutMs: number;
  private readonly upstreamDuration: GatewayMetrics['upstreamDuration'];
  /** The names in the last answer-headers list seen (one list per compiled config) and the request id's. */
  private ownList: HeaderList = [];
  private ownNames: ReadonlySet<string> = new Set(['x-request-id']);

  constructor(
    readonly service: UpstreamService,
    readonly timeoutMs: number,
    readonly edits: readonly ResponseHeaderEdit[],
    /** The route's response-end phases; empty on most routes, which then pay one length check. */
    readonly ends: readonly ResponseEnd[],
    readonly droppedResponseHeaders: ReadonlySet<string>,
    retry: RetrySettings,
    metrics: GatewayMetrics,
    now: () => number,
    /** Counts the body bytes relayed both ways; null when gateway.releaseBodyMemoryEvery is 0. */
    readonly bodyMemory: BodyMemoryReleaser | null,
    readonly logger: Logger,
    /**
     * undici's body timeout: the longest silence allowed between two chunks of an answer
     * (route.streamIdleTimeout), apart from the wait for its head, so that a quiet event stream
     * stays open. It never runs while the answer is paused for a slow reader.
     */
    readonly idleTimeoutMs: number,
  ) {
    this.retries = new RetryPolicy(retry, service, metrics, now);
    this.retryStatuses = this.retries.statuses;
    this.deadlines = new DeadlineList(timeoutMs);
    this.undiciTimeoutMs = timeoutMs + 1000;
    this.pauses = new DeadlineList(this.undiciTimeoutMs);
    this.upstreamDuration = metrics.upstreamDuration;
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

  /** Runs the response-end phases of an answer relayed whole; a fault in one is logged, not answered. */
  answered(req: GatewayRequest, res: ServerResponse): void {
    for (let i = 0; i < this.ends.length; i++) {
      try {
        this.ends[i](req, res);
      } catch (err) {
        this.logger.error('a response-end phase failed', { requestId: req.id, error: err instanceof Error ? err.stack : String(err) });
      }
    }
  }

  timeUpstream(instance: UpstreamInstance, seconds: number): void {
    // The series is the instance's own (service and upstream labels), resolved on its first answer:
    // a discovered instance may arrive after the route was compiled.
    (instance.durationSeries ??= this.upstreamDuration.labels({ service: this.service.name, upstream: instance.url })).observe(seconds);
  }

  /** Moves a failed attempt on to another instance if the request may still be retried. */
  retry(failed: UpstreamAttempt): boolean {
    const { req, res } = failed;
    const target = this.retries.retarget(req, res, failed.replayable, failed.instance);
    if (!target) return false;
    failed.release();
    req.retries++;
    this.retries.counted();
    new UpstreamAttempt(this, req, res, failed.next, target, failed.path, failed.headers, failed.body, true).send();
    return true;
  }
}
