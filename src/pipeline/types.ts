import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger';
import type { RouteConfig, GatewayConfig } from '../config/types';
import type { TraceContext } from '../observability/request-id';
import type { UpstreamService, UpstreamInstance } from '../upstream/service';
import type { ClientIpResolver } from '../net/client-ip';

/**
 * Node's own request, with the few fields the gateway adds as own properties. They are assigned in
 * the same order for every request (see the dispatcher) so V8 keeps one object shape.
 */
/** The authenticated caller, set by the auth stage from a verified token's claims. */
export interface RequestUser {
  sub: string;
  roles: string[];
  claims: Record<string, unknown>;
}

export interface GatewayRequest extends IncomingMessage {
  id: string;
  trace: TraceContext;
  clientIp: string;
  startedAt: number;
  /** Named apart from Express's own `req.route`, which the management app overwrites. */
  gatewayRoute: CompiledRoute | undefined;
  upstream: UpstreamInstance | undefined;
  user: RequestUser | undefined;
}

export type Next = (err?: unknown) => void;
export type Handler = (req: GatewayRequest, res: ServerResponse, next: Next) => void;

/** Everything a stage may use; nothing comes from module-level singletons. */
export interface GatewayDeps {
  logger: Logger;
  clientIp: ClientIpResolver;
  now: () => number;
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
  /** The compiled stage chain; runs on the raw req/res. */
  handle: (req: GatewayRequest, res: ServerResponse, fail: (err: unknown) => void) => void;
}

/** A stage: runs once per route per compiled config; `null` when the route does not use it. */
export type StageFactory = (route: CompiledRoute, config: GatewayConfig, deps: GatewayDeps) => Handler | null;
