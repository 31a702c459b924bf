import type { GatewayConfig } from './types';
import { parseDuration, parseSize } from './units';
import { composeChain } from '../pipeline/chain';
import { STAGES } from '../pipeline';
import type { CompiledRoute, GatewayDeps, Handler } from '../pipeline/types';
import { RouteTable } from '../routing/route-table';
import { UpstreamService } from '../upstream/service';
import { WebSocketProxy } from '../upstream/websocket';

/** One complete, immutable gateway built from one config; a reload builds another and swaps. */
export interface CompiledGateway {
  readonly config: GatewayConfig;
  readonly table: RouteTable;
  readonly routes: readonly CompiledRoute[];
  readonly services: ReadonlyMap<string, UpstreamService>;
  /** Names of the stages each route runs, in order (for `explain` and GET /services). */
  readonly stagesByRoute: ReadonlyMap<string, readonly string[]>;
  /** One WebSocket proxy per service that has a `websocket: true` route. */
  readonly websockets: ReadonlyMap<string, WebSocketProxy>;
  readonly deps: GatewayDeps;
  /** Starts the active health checks; a compiled gateway that only explains or lints never probes. */
  start(): void;
  close(): Promise<void>;
}

export function compileGateway(config: GatewayConfig, deps: GatewayDeps): CompiledGateway {
  const services = new Map<string, UpstreamService>();
  for (const [name, svc] of Object.entries(config.services)) {
    services.set(name, new UpstreamService(name, svc, config.loadBalancing.enabled, deps));
  }
  const stagesByRoute = new Map<string, string[]>();
  const routes = config.routes.map((rc) => {
    const service = services.get(rc.service);
    if (!service) throw new Error(`route "${rc.name}" names unknown service "${rc.service}"`);
    const route: CompiledRoute = {
      config: rc,
      name: rc.name,
      prefix: rc.path,
      rewrite: rc.rewrite,
      methods: new Set(rc.methods),
      host: rc.host.toLowerCase(),
      service,
      timeoutMs: parseDuration(rc.timeout) ?? 30_000,
      maxBodyBytes: parseSize(rc.maxBodySize) ?? 10 * 1024 * 1024,
      websocket: rc.websocket,
      handle: () => undefined,
    };
    const handlers: Handler[] = [];
    const names: string[] = [];
    for (const stage of STAGES) {
      const handler = stage.create(route, config, deps);
      if (handler) {
        handlers.push(handler);
        names.push(stage.name);
      }
    }
    route.handle = composeChain(handlers);
    stagesByRoute.set(rc.name, names);
    return route;
  });
  const websockets = new Map<string, WebSocketProxy>();
  for (const route of routes) {
    if (route.websocket && !websockets.has(route.service.name)) {
      websockets.set(route.service.name, new WebSocketProxy(route.service, deps.logger));
    }
  }
  return {
    config,
    deps,
    websockets,
    table: new RouteTable(routes),
    routes,
    services,
    stagesByRoute,
    start() {
      for (const s of services.values()) s.startHealthChecks();
    },
    async close() {
      for (const ws of websockets.values()) ws.close();
      await Promise.all([...services.values()].map((s) => s.close()));
    },
  };
}
