import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../observability/logger';
import type { RouteConfig, GatewayConfig } from '../config/types';
import type { TraceContext } from '../observability/request-id';
import type { UpstreamService, UpstreamInstance } from '../upstream/service';
import type { ClientIpResolver } from '../net/client-ip';
import type { Resources } from '../reload/resources';
import type { GatewayMetrics } from '../observability/metrics';
import type { LineWriter } from '../observability/logger';
import type { RouteMetrics } from '../observability/route-metrics';

/** The authenticated caller, set by the auth stage from a verified token's claims. */
export interface RequestUser {
  sub: string;
  roles: string[];
  claims: Record<string, unknown>;
  /** Identity headers for the upstream (auth.forwardClaims), lowercased names; built once per token. */
  forwardHeaders: Readonly<Record<string, string>>;
}

/**
 * Node's own request, with the few fields the gateway adds as own properties. They are assigned in
 * the same order for every request (see the dispatcher) so V8 keeps one object shape.
 */
export interface GatewayRequest extends IncomingMessage {
  /** The compiled config serving this request (a reload does not change it mid-request). */
  gateway: RequestGateway;
  id: string;
  trace: TraceContext;
  clientIp: string;
  /** The client connection, kept: node clears `req.socket` before some requests close (bodies it consumed). */
  clientSocket: Socket;
  startedAt: number;
  /** Named apart from Express's own `req.route`, which the management app overwrites. */
  gatewayRoute: CompiledRoute | undefined;
  upstream: UpstreamInstance | undefined;
  /** Upstream attempts beyond the first (retries). */
  retries: number;
  user: RequestUser | undefined;
  /** The body, when a stage had to read it whole (validation); the proxy then sends these bytes. */
  body: Buffer | undefined;
  /** Set by express-rate-limit (its requestPropertyName) for the limiter that just ran. */
  rateLimit: RateLimitInfo | undefined;
  /**
   * Headers every answer to this request carries from here on (the security headers), whether the
   * upstream's or the gateway's own error: added to the upstream's head in one writeHead, where
   * a setHeader per header per request was a measurable cost.
   */
  answerHeaders: HeaderList | undefined;
  /**
   * The upstream request in progress, told when the client leaves so that it is cancelled; it
   * also says why the gateway cut an answer it had started relaying (`endedBy`, see stream-end),
   * kept there rather than on every request, which only the rare cut answer needs.
   */
  exchange: { clientGone(): void; readonly endedBy: StreamEnd | undefined } | undefined;
}

/**
 * Why the gateway closed a client connection in the middle of an answer: the upstream went quiet
 * for the route's streamIdleTimeout, the upstream broke off, or the client left the answer unread.
 */
export type StreamEnd = 'upstream_idle_timeout' | 'upstream_failed' | 'client_too_slow';

/** Header name (lowercase) and value pairs, in order. */
export type HeaderList = readonly (readonly [string, string])[];

/** What express-rate-limit reports for one limiter and one request. */
export interface RateLimitInfo {
  limit: number;
  used: number;
  remaining: number;
  resetTime: Date | undefined;
}

/** Changes the headers of an upstream response before they are written to the client. */
export type ResponseHeaderEdit = (headers: OutgoingHttpHeaders, req: GatewayRequest) => void;

export type Next = (err?: unknown) => void;
/** The error exit of a request: writes the problem+json answer for `err`. */
export type RequestFailure = (req: GatewayRequest, res: ServerResponse, err: unknown) => void;
export type Handler = (req: GatewayRequest, res: ServerResponse, next: Next) => void;
/** A check that reads only the request, so it can guard WebSocket upgrades (no response object) too. */
export type RequestGuard = (req: GatewayRequest, next: Next) => void;

/** What the process gives every compiled gateway: shared by all configs it ever runs. */
export interface RuntimeDeps {
  logger: Logger;
  now: () => number;
  metrics: GatewayMetrics;
  /** The access log's batched line writer (same destination as `logger`). */
  accessLog: LineWriter;
}

/**
 * What the code serving a request reads of the compiled gateway it runs on; the whole of it
 * (src/gateway/compile.ts) is built from the stages, so they see only this part.
 */
export interface RequestGateway {
  readonly deps: GatewayDeps;
  /** Whether finished requests get an access line (monitoring.logRequests, and a log that takes info). */
  readonly logRequests: boolean;
}

/** Everything a stage may use; nothing comes from module-level singletons. */
export interface GatewayDeps extends RuntimeDeps {
  clientIp: ClientIpResolver;
  /**
   * Long-lived state (stores, pools, breakers) that survives a reload when its settings did not
   * change: `resources.reuse(key, fingerprint, create, dispose)`.
   */
  resources: Resources;
}

/** What a stage factory gets: the process's deps plus what belongs to the one config being compiled. */
export interface StageDeps extends GatewayDeps {
  /** The services of this config, by name: a stage that calls a service goes through its balancer. */
  readonly services: ReadonlyMap<string, UpstreamService>;
  /**
   * One object per compiled config under `key`, built by the first route that asks and shared by
   * the others (an authenticator, say), so routes do not duplicate work. For state that should
   * survive a reload, or that needs disposing, use `resources`.
   */
  shared<T>(key: string, create: () => T): T;
}

export interface CompiledRoute {
  readonly config: RouteConfig;
  readonly name: string;
  readonly prefix: string;
  readonly rewrite: string | undefined;
  readonly methods: ReadonlySet<string>;
  /** Host to match, lowercased; '*.example.org' matches subdomains. Empty matches any host. */
  readonly host: string;
  readonly service: UpstreamService;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly websocket: boolean;
  /**
   * Client request headers never passed on: identity headers only the auth stage may set
   * (auth.forwardClaims), and Authorization when the route strips it. Lowercased.
   */
  readonly strippedRequestHeaders: readonly string[];
  /** Every request header not copied upstream as sent (hop-by-hop, set by the gateway, stripped). */
  readonly droppedRequestHeaders: ReadonlySet<string>;
  /** gateway.dropUnderscoreHeaders: client headers with `_` in their name are not passed on. */
  readonly dropUnderscoreHeaders: boolean;
  /**
   * Upstream response headers never passed on to the client: the hop-by-hop ones, and those the
   * stages' response-head phase names (the security headers stage drops software banners).
   */
  readonly droppedResponseHeaders: Set<string>;
  /** The stages' upgrade phases (checks on the request alone), in chain order; websocket routes only. */
  readonly upgradeGuards: RequestGuard[];
  /** This route's request counter and duration series, resolved once. */
  readonly metrics: RouteMetrics;
  /**
   * Edits of proxied response headers (response transforms), from the stages' response-head
   * phases; the proxy applies them in order to each upstream response.
   */
  readonly responseHeaderEdits: ResponseHeaderEdit[];
  /** The stages' response-end phases; the proxy runs them after a proxied answer ended whole. */
  readonly responseEnds: ResponseEnd[];
  /** The compiled stage chain; runs on the raw req/res. */
  handle: (req: GatewayRequest, res: ServerResponse, fail: RequestFailure) => void;
}

/** Runs once the proxied answer was written whole (a span to end, an answer to store). */
export type ResponseEnd = (req: GatewayRequest, res: ServerResponse) => void;

/** What a stage does to the head of proxied answers: upstream headers it drops, edits it makes. */
export interface ResponseHeadPhase {
  /** Upstream response header names (lowercase) never passed on to the client. */
  readonly drop?: readonly string[];
  /** Runs on every proxied answer's headers, in stage order. */
  readonly edit?: ResponseHeaderEdit;
}

/**
 * What a stage does on one route, by phase; the compiler derives the request chain, the upgrade
 * guards and the response edits from these. A phase a stage leaves out costs the route nothing.
 */
export interface StageDescriptor {
  /** The request chain: Express's middleware contract on the raw req/res. */
  readonly request?: Handler;
  /** A check on the request alone that also guards WebSocket upgrades on `websocket: true` routes. */
  readonly upgrade?: RequestGuard;
  readonly responseHead?: ResponseHeadPhase;
  readonly responseEnd?: ResponseEnd;
}

/** A stage: runs once per route per compiled config; `null` when the route does not use it. */
export type StageFactory = (route: CompiledRoute, config: GatewayConfig, deps: StageDeps) => StageDescriptor | null;
