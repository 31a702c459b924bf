import { createHash } from 'node:crypto';
import { GatewayError } from '../errors/catalog';
import type { Logger } from '../observability/logger';
import type { UpstreamInstance, UpstreamService } from '../upstream/service';
import { smallRequest } from '../upstream/undici';
import { BoundedCache } from './bounded-cache';
import { isRecord } from '../util/is-record';
import { upstreamErrorCode } from '../upstream/upstream-error';

export type Verdict = { valid: true; claims: Record<string, unknown>; /** ms: how long this answer may be reused */ until: number } | { valid: false; reason: string; until: number };

export interface AuthServiceOptions {
  /** Answers by sha256 of the token; owned by the caller so it can outlive one compiled config. */
  answers: BoundedCache<Verdict>;
  path: string;
  cacheTtlMs: number;
  rejectedCacheTtlMs: number;
  timeoutMs: number;
  now: () => number;
  logger: Logger;
}

/** Who is asking, passed on so the auth service's logs join the gateway's. */
export interface CallContext {
  requestId: string;
  traceparent: string;
}

/** An answer bigger than this is not a validation answer; reading it whole would cost memory. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The service gave no usable answer; `elsewhere`: it was not reached, so another instance may be. */
class Unavailable extends Error {
  constructor(
    message: string,
    readonly elsewhere = false,
  ) {
    super(message);
  }
}

/**
 * Asks the Auth Service whether a token is valid, through the gateway's own instances of that
 * service (its balancer skips instances that health checks or the circuit breaker took out, and
 * each call reports to the breaker). Answers are cached per sha256 of the token (the raw token is
 * never a key): valid ones for `cacheTtl` but never past the token's exp, refusals (401/403)
 * briefly. Concurrent questions about one token share one call. When the service cannot answer
 * (unreachable, timeout, 5xx), the request fails with 503: authentication fails closed.
 *
 * Protocol: `POST <path>` with `Authorization: Bearer <token>` and `{"token": "<token>"}`. A 2xx
 * answer means valid unless its JSON says `"valid": false` or `"active": false` (RFC 7662); its
 * `claims` (or `user`) object, if any, adds to or overrides the token's claims. 401 or 403 means
 * refused. Anything else means the service cannot tell.
 */
export class AuthServiceValidator {
  private readonly answers: BoundedCache<Verdict>;
  private readonly pending = new Map<string, Promise<Verdict>>();

  constructor(
    private readonly service: UpstreamService,
    private readonly options: AuthServiceOptions,
  ) {
    this.answers = options.answers;
  }

  /** `tokenExpiresAt`: the token's own exp (ms), which no cached answer outlives. */
  validate(token: string, tokenExpiresAt: number, context: CallContext): Promise<Verdict> {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.answers.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const running = this.pending.get(key);
    if (running !== undefined) return running;
    const asked = this.ask(token, context).then((answer) => {
      const now = this.options.now();
      const verdict: Verdict = answer.valid ? { ...answer, until: Math.min(now + this.options.cacheTtlMs, tokenExpiresAt, answer.until) } : { ...answer, until: now + this.options.rejectedCacheTtlMs };
      this.answers.set(key, verdict, verdict.until);
      return verdict;
    });
    this.pending.set(key, asked);
    const forget = () => this.pending.delete(key);
    asked.then(forget, forget);
    return asked;
  }

  /** One call, and one more on another instance when the first could not be reached. */
  private async ask(token: string, context: CallContext): Promise<Verdict> {
    const first = this.service.balancer.pick();
    if (first === undefined) throw this.unavailable(new Unavailable(`no instance of service "${this.service.name}" is available`));
    try {
      return await this.call(first, token, context);
    } catch (err) {
      const second = err instanceof Unavailable && err.elsewhere ? this.service.balancer.pick(first) : undefined;
      if (second === undefined) throw this.unavailable(err, first);
      try {
        return await this.call(second, token, context);
      } catch (again) {
        throw this.unavailable(again, second);
      }
    }
  }

  /** The 503 for the client says what went wrong, not where: instance addresses go to the log only. */
  private unavailable(err: unknown, instance?: UpstreamInstance): GatewayError {
    this.options.logger.warn('auth service validation failed', {
      service: this.service.name,
      instance: instance?.url,
      path: this.options.path,
      error: err instanceof Error ? err.message : String(err),
    });
    const why = err instanceof Unavailable ? err.message : 'unexpected failure';
    return new GatewayError('GW_AUTH_UNAVAILABLE', `The auth service could not validate the token (${why}); retry shortly`, { 'retry-after': '5' });
  }

  private async call(instance: UpstreamInstance, token: string, context: CallContext): Promise<Verdict> {
    instance.inFlight++;
    instance.breaker.onStart();
    let reported = false;
    const report = (ok: boolean, reason = '') => {
      if (reported) return;
      reported = true;
      if (ok) instance.breaker.onSuccess();
      else instance.breaker.onFailure(reason);
    };
    try {
      let answer;
      try {
        answer = await smallRequest(instance.pool, {
          path: this.options.path,
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            accept: 'application/json',
            'x-request-id': context.requestId,
            traceparent: context.traceparent,
          },
          body: JSON.stringify({ token }),
          signal: AbortSignal.timeout(this.options.timeoutMs),
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
          maxBytes: MAX_ANSWER_BYTES,
        });
      } catch (err) {
        const code = upstreamErrorCode(err);
        const timedOut = (err as Error)?.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT';
        report(false, timedOut ? 'timeout' : code || 'error');
        if (timedOut) throw new Unavailable(`no answer within ${this.options.timeoutMs} ms`);
        throw new Unavailable(`it could not be reached (${code || 'connection failed'})`, true);
      }
      const status = answer.statusCode;
      if (answer.truncated) {
        report(false, 'unreadable answer');
        throw new Unavailable(`unreadable answer (answer larger than ${MAX_ANSWER_BYTES} bytes)`);
      }
      const body = parseJson(answer.body);
      if (status >= 500) {
        report(false, `status ${status}`);
        throw new Unavailable(`it answered ${status}`);
      }
      report(true);
      if (status === 401 || status === 403) {
        const reason = isRecord(body) ? (body.detail ?? body.message ?? body.error) : undefined;
        return { valid: false, reason: typeof reason === 'string' ? reason.slice(0, 200) : `it answered ${status}`, until: 0 };
      }
      if (status < 200 || status >= 300) throw new Unavailable(`it answered ${status} (is auth.validateWith.path right?)`);
      if (isRecord(body) && (body.valid === false || body.active === false)) {
        const reason = body.detail ?? body.message ?? body.error;
        return { valid: false, reason: typeof reason === 'string' ? reason.slice(0, 200) : 'it answered valid: false', until: 0 };
      }
      const claims = isRecord(body) ? (isRecord(body.claims) ? body.claims : isRecord(body.user) ? body.user : {}) : {};
      // An answer may carry its own expiry (RFC 7662 `exp`, seconds): never reuse it beyond that.
      const exp = isRecord(body) && typeof body.exp === 'number' ? body.exp * 1000 : Number.POSITIVE_INFINITY;
      return { valid: true, claims, until: exp };
    } finally {
      instance.inFlight--;
    }
  }
}

/** The answer as JSON; only the status matters for an empty or non-JSON answer. */
function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
