import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { GatewayError } from '../errors/catalog';
import { upstreamTarget } from '../routing/rewrite';
import { RetryBudget } from '../upstream/retry-budget';
import type { UpstreamInstance } from '../upstream/service';
import { BodyLimit } from './body-limit';
import { readBody } from './read-body';
import { clientResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import type { GatewayRequest, Handler, StageFactory } from './types';

/** Bodies up to this size are held in memory when the request may be retried, so they can be re-sent. */
export const REPLAY_BUFFER_LIMIT = 64 * 1024;

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT', 'UND_ERR_CONNECT_TIMEOUT']);
const RESETS = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
/** Upstream answers that count as the instance failing (for the circuit breaker). */
const FAILED_STATUSES = new Set([502, 503, 504]);

function ignore(): void {
  /* an abandoned answer's late errors have nobody to go to */
}

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

/**
 * The last stage: streams the request to the chosen instance through its undici Pool and the
 * response back, both ways without buffering. A client that goes away aborts the upstream request;
 * an upstream that dies mid-response closes the client connection. Every attempt reports to the
 * instance's circuit breaker; idempotent requests are retried on another instance when the
 * connection failed before any response byte or the answer is one of `retry.on`.
 */
export const createProxyStage: StageFactory = (route, _config, deps) => {
  const { prefix, rewrite, timeoutMs, maxBodyBytes, service } = route;
  const retry = route.config.retry;
  const retryMethods = new Set<string>(retry.methods);
  const retryStatuses = new Set(retry.on);
  const budget = retry.attempts > 1 ? new RetryBudget(retry.budget, deps.now) : undefined;
  const retriesCounter = deps.metrics.retries.labels({ service: service.name });
  const edits = route.responseHeaderEdits;
  const upstreamTimers = new Map(service.instances.map((i) => [i, deps.metrics.upstreamDuration.labels({ service: service.name, instance: i.url })]));

  /** The instance for the next attempt: another one when it exists, else the only one. */
  function nextInstance(previous: UpstreamInstance): UpstreamInstance | undefined {
    const other = service.balancer.pick(previous);
    if (other) return other;
    return service.instances.length === 1 && previous.available() ? previous : undefined;
  }

  return function proxy(req: GatewayRequest, res: ServerResponse, next) {
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
    budget?.recordRequest();
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && requestHasBody(req);
    const mayRetry = budget !== undefined && retryMethods.has(req.method ?? '');
    const path = upstreamTarget(req.url ?? '/', prefix, rewrite);
    const headers = upstreamRequestHeaders(req, deps.clientIp.trustsPeer(req.socket.remoteAddress ?? ''));

    if (req.body !== undefined) {
      // Already read whole (validation): these exact bytes go upstream, and may be re-sent.
      attempt(first, req.body, mayRetry);
    } else if (!hasBody) {
      attempt(first, null, mayRetry);
    } else if (mayRetry && declared !== undefined && Number(declared) <= REPLAY_BUFFER_LIMIT) {
      readBody(req, REPLAY_BUFFER_LIMIT).then(
        (body) => attempt(first, body, true),
        () => undefined, // the client went away while sending; nothing to answer
      );
    } else {
      // A streamed body can be sent once only: no retries.
      let body: Readable = req;
      if (declared === undefined) {
        body = req.pipe(new BodyLimit(maxBodyBytes));
        req.once('error', (err) => body.destroy(err));
      }
      attempt(first, body, false);
    }

    function attempt(instance: UpstreamInstance, body: Buffer | Readable | null, replayable: boolean): void {
      req.upstream = instance;
      const abort = new AbortController();
      // undici's own headersTimeout ticks in ~1 s steps; the route's timeout is kept to the millisecond.
      let timedOut = false;
      const deadline = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, timeoutMs);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        instance.inFlight--;
        clearTimeout(deadline);
      };
      const onClientClose = () => {
        release();
        if (!res.writableFinished) abort.abort();
      };
      instance.inFlight++;
      instance.breaker.onStart();
      res.once('close', onClientClose);
      const sentAt = performance.now();

      /** Moves on to another attempt if this request may still be retried; false when it may not. */
      const retried = (): boolean => {
        if (!replayable || req.retries + 1 >= retry.attempts || res.destroyed) return false;
        const target = nextInstance(instance);
        if (!target || !budget?.tryAcquire()) return false;
        res.off('close', onClientClose);
        release();
        req.retries++;
        retriesCounter.inc();
        attempt(target, body, replayable);
        return true;
      };

      instance.pool
        .request({
          path,
          method: req.method as 'GET',
          headers,
          body,
          signal: abort.signal,
          headersTimeout: timeoutMs + 1000,
          bodyTimeout: timeoutMs,
        })
        .then(
          (upstream) => {
            clearTimeout(deadline);
            upstreamTimers.get(instance)?.observe((performance.now() - sentAt) / 1000);
            if (res.destroyed) {
              instance.breaker.onAbandon();
              // Destroying an unread undici body emits an abort error: it must have a listener.
              upstream.body.on('error', ignore).destroy();
              return;
            }
            const status = upstream.statusCode;
            if (FAILED_STATUSES.has(status)) instance.breaker.onFailure(`status ${status}`);
            else instance.breaker.onSuccess();
            if (retryStatuses.has(status) && retried()) {
              upstream.body.dump().catch(() => undefined);
              return;
            }
            const responseHeaders = clientResponseHeaders(upstream.headers);
            for (let i = 0; i < edits.length; i++) edits[i](responseHeaders, req);
            res.writeHead(status, responseHeaders);
            // pipe() rather than stream.pipeline(): pipeline allocates and aborts an AbortController
            // per response, a measurable share of the hot path. A client going away aborts the
            // upstream request (onClientClose), which ends this body; an upstream dying mid-body
            // must close the client connection, never leave it waiting.
            upstream.body.on('error', () => {
              if (!res.destroyed) res.destroy();
            });
            upstream.body.pipe(res);
          },
          (err: unknown) => {
            clearTimeout(deadline);
            if (res.destroyed || (abort.signal.aborted && !timedOut)) {
              instance.breaker.onAbandon();
              release();
              return;
            }
            const code = timedOut ? 'UND_ERR_HEADERS_TIMEOUT' : errorCode(err);
            if (!(err instanceof GatewayError)) instance.breaker.onFailure(code || 'error');
            if ((CONNECT_FAILURES.has(code) || RESETS.has(code)) && retried()) return;
            release();
            next(upstreamFailure(timedOut ? Object.assign(new Error('headers timeout'), { code }) : err, service.name, timeoutMs));
          },
        );
    }
  } satisfies Handler;
};
