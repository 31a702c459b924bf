import type { ServerResponse } from 'node:http';
import { parseDuration, parseSize } from '../config/units';
import { GatewayError } from '../errors/catalog';
import { payloadTooLarge } from '../errors/coded';
import { BodyMemoryReleaser } from '../memory/body-memory-releaser';
import { collectYoungGeneration } from '../memory/young-generation-gc';
import { upstreamRequestHeaders } from './proxy-headers';
import { upstreamTarget } from '../routing/rewrite';
import { CLIENT_GONE, UpstreamAttempt } from '../upstream/attempt';
import { RouteProxy } from '../upstream/route-proxy';
import { BodyLimit } from './body-limit';
import { onRequest } from './descriptor';
import { readBody } from './read-body';
import type { GatewayRequest, Handler, StageFactory } from './types';

/** Bodies up to this size are held in memory when the request may be retried, so they can be re-sent. */
export const REPLAY_BUFFER_LIMIT = 64 * 1024;

function requestHasBody(req: GatewayRequest): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
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
  // Unset, the silence allowed equals undici's headers timeout (the route's timeout plus a second):
  // with one value undici refreshes one timer when the head arrives instead of replacing it, which
  // measured 3-4 % of the CPU per request (bench/paired-cpu.sh, 1.43x vs 1.50x of bare undici).
  const idleTimeoutMs = parseDuration(route.config.streamIdleTimeout) ?? timeoutMs + 1000;
  const proxy = new RouteProxy(
    service,
    timeoutMs,
    route.responseHeaderEdits,
    route.responseEnds,
    route.droppedResponseHeaders,
    route.config.retry,
    deps.metrics,
    deps.now,
    bodyMemory,
    deps.logger,
    idleTimeoutMs,
  );

  const { budget, methods: retryMethods } = proxy.retries;

  return onRequest(function proxyStage(req: GatewayRequest, res: ServerResponse, next) {
    const first = req.upstream;
    if (!first) {
      next(new GatewayError('GW_INTERNAL', 'No upstream instance was selected'));
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      next(payloadTooLarge(maxBodyBytes, declared));
      return;
    }
    budget?.recordRequest();
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && requestHasBody(req);
    const mayRetry = budget !== undefined && retryMethods.has(req.method ?? '');
    const path = upstreamTarget(req.url ?? '/', prefix, rewrite);
    const headers = upstreamRequestHeaders(req, deps.clientIp.trustsPeer(req.clientSocket.remoteAddress ?? ''));
    if (req.body !== undefined) {
      // Already read whole (validation): these exact bytes go upstream, and may be re-sent.
      new UpstreamAttempt(proxy, req, res, next, first, path, headers, req.body, mayRetry).send();
    } else if (!hasBody) {
      new UpstreamAttempt(proxy, req, res, next, first, path, headers, null, mayRetry).send();
    } else if (mayRetry && declared !== undefined && Number(declared) <= REPLAY_BUFFER_LIMIT) {
      readBody(req, REPLAY_BUFFER_LIMIT)
        .then(
          (body) => {
            if (!res.destroyed) new UpstreamAttempt(proxy, req, res, next, first, path, headers, body, true).send();
          },
          () => undefined, // the client went away while sending; nothing to answer
        )
        .catch(next);
    } else {
      // A streamed body can be sent once only: no retries. undici gets a stream of the gateway's
      // own, never the client's request: it destroys the stream it sends when the upstream fails,
      // and a destroyed request resets the client connection before it gets its 502.
      const body = req.pipe(new BodyLimit(maxBodyBytes));
      const attempt = new UpstreamAttempt(proxy, req, res, next, first, path, headers, body, false);
      // A client that leaves mid-upload ends the attempt as abandoned, never as an upstream failure.
      req.once('error', () => body.destroy(CLIENT_GONE));
      // undici listens to the body only once it is writing it; an error while queued is ours.
      body.on('error', (err) => attempt.onError(err));
      attempt.send();
    }
  } satisfies Handler);
};
