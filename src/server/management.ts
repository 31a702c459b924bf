import type { DiscoveryView } from '../upstream/instance-source';
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { NextFunction, Request, Response } from 'express';
import { ERROR_CATALOG, GatewayError } from '../errors/catalog';
import { asGatewayError, writeProblem } from '../errors/problem';
import type { CompiledGateway } from '../gateway/compile';
import type { GatewayRequest } from '../pipeline/types';
import type { Logger } from '../observability/logger';
import { MANAGEMENT_PATHS } from '../routing/management-paths';
import { VERSION } from './version';
import { managementIpFilter, RESTRICTED_MANAGEMENT_PATHS } from './management-ip-filter';
import type { ReloadControl } from '../reload/reloader';
import type { GatewayMetrics } from '../observability/metrics';
import { maskSecrets } from '../cli/print-config';
import type { InstanceView, ServiceStatus } from '../upstream/service';
import { docsRouter } from '../docs/swagger-ui';

export interface ManagementContext {
  current: () => CompiledGateway;
  startedAt: number;
  logger: Logger;
  /** ADMIN_TOKEN; without it every /admin endpoint answers 404. */
  adminToken?: string;
  reloader: () => ReloadControl | undefined;
  metrics: () => GatewayMetrics;
  /** The /metrics text when it is not this process's own registry (a cluster's totals). */
  metricsText?: () => Promise<string>;
  /**
   * Whether ipFilter.managementAllow guards the endpoints that reveal the deployment: on the public
   * port, yes; on the management listener, whose port is the boundary, only the deny list applies.
   */
  publicPort: boolean;
  /** True from the moment the gateway is told to stop: readiness fails so traffic moves away. */
  stopping: () => boolean;
}

/** Constant-time comparison of a presented bearer token with the admin token. */
function adminTokenMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

function servicesView(gw: CompiledGateway) {
  return [...gw.services.values()].map((s) => ({
    name: s.name,
    status: s.status(),
    loadBalancer: s.algorithm,
    instances: s.instances.map((i) => ({ url: i.url, weight: i.weight, inFlight: i.inFlight, available: i.available() })),
    // Where the instances come from when DNS finds them (absent: listed in routes.yaml).
    ...(s.discovery === null ? {} : { discovery: s.discovery }),
    routes: gw.routes.filter((r) => r.service === s).map((r) => r.name),
    openapi: gw.documents.status(s.name) ?? null,
  }));
}

/**
 * healthy: every service has all its instances; degraded: some instance is out; unhealthy: some
 * service has none left (the only case a readiness probe should act on: 503).
 */
export function healthOfServices(gw: CompiledGateway) {
  const services: Record<string, { status: ServiceStatus; algorithm: string; instances: InstanceView[]; discovery?: DiscoveryView }> = {};
  let overall: ServiceStatus = 'healthy';
  for (const s of gw.services.values()) {
    const status = s.status();
    const discovery = s.discovery;
    services[s.name] = discovery === null ? { status, algorithm: s.algorithm, instances: s.view() } : { status, algorithm: s.algorithm, instances: s.view(), discovery };
    if (status === 'unhealthy') overall = 'unhealthy';
    else if (status === 'degraded' && overall === 'healthy') overall = 'degraded';
  }
  return { status: overall, services };
}

/**
 * Express serves what it is good at: the management endpoints and the 404 for paths no route
 * claims. Proxied traffic never reaches this app.
 */
export function createManagementApp(ctx: ManagementContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const ipGuard = managementIpFilter(ctx.current, ctx.publicPort);
  app.use(RESTRICTED_MANAGEMENT_PATHS, ipGuard);
  /** Whether the guard above lets this client through (it decides synchronously). */
  const passesIpGuard = (req: Request): boolean => {
    let passed = false;
    ipGuard(req, undefined as never, (err?: unknown) => {
      passed = err === undefined;
    });
    return passed;
  };

  app.get('/', (_req, res) => {
    const gw = ctx.current();
    res.json({
      name: 'TracSeq API Gateway',
      version: VERSION,
      environment: gw.config.gateway.environment,
      uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
      routes: gw.routes.map((r) => ({
        name: r.name,
        path: r.prefix,
        methods: [...r.methods],
        service: r.service.name,
        rewrite: r.rewrite ?? null,
        host: r.host || null,
        websocket: r.websocket,
      })),
      status: healthOfServices(gw).status,
      services: servicesView(gw).map(({ name, status, loadBalancer, instances }) => ({
        name,
        status,
        loadBalancer,
        instances: instances.length,
        available: instances.filter((i) => i.available).length,
      })),
      endpoints: MANAGEMENT_PATHS.filter((p) => p !== '/'),
      config: ctx.reloader()?.state ?? null,
    });
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000) });
  });

  // Readiness never looks at the services behind the gateway: one dead backend must not take every
  // gateway replica out of its load balancer at once (that is what /health/services is for).
  app.get('/ready', (_req, res) => {
    if (ctx.stopping()) res.status(503).json({ status: 'shutting_down' });
    else res.json({ status: 'ready' });
  });

  app.get('/health/services', (_req, res) => {
    const health = healthOfServices(ctx.current());
    res.status(health.status === 'unhealthy' ? 503 : 200).json({ ...health, checkedAt: new Date().toISOString() });
  });

  app.get('/services', (_req, res) => {
    res.json({ services: servicesView(ctx.current()) });
  });

  app.get('/metrics', async (_req, res, next) => {
    if (!ctx.current().config.monitoring.metrics) return next();
    const registry = ctx.metrics().registry;
    try {
      res.set('content-type', registry.contentType).send(ctx.metricsText ? await ctx.metricsText() : await registry.metrics());
    } catch (err) {
      next(err);
    }
  });

  app.use(
    '/docs',
    docsRouter({
      config: () => ctx.current().config,
      routesFile: () => ctx.reloader()?.state.file,
      serviceDocuments: () => ctx.current().documents.snapshot(),
      management: (req) => ({ restricted: passesIpGuard(req), admin: ctx.adminToken ? { reload: ctx.reloader() !== undefined } : undefined }),
    }),
  );

  const adminToken = ctx.adminToken;
  if (adminToken) {
    app.use('/admin', (req: Request, _res: Response, next: NextFunction) => {
      if (adminTokenMatches(req.headers.authorization, adminToken)) return next();
      next(new GatewayError('GW_ADMIN_UNAUTHORIZED', 'The admin endpoints need Authorization: Bearer <ADMIN_TOKEN>', { 'www-authenticate': 'Bearer realm="tracseq-admin"' }));
    });
    app.post('/admin/reload', async (_req, res, next) => {
      const reloader = ctx.reloader();
      if (!reloader) return next(new GatewayError('GW_NOT_FOUND', 'This gateway was not started from a routes file; there is nothing to reload'));
      const outcome = await reloader.reload('admin', true);
      res.status(outcome.result === 'success' || outcome.result === 'unchanged' ? 200 : 422).json(outcome);
    });
    app.get('/admin/config', (_req, res) => {
      res.json(maskSecrets(ctx.current().config));
    });
  }

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new GatewayError('GW_NOT_FOUND', `No route matches ${req.method} ${req.path}; GET / lists the routes`));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const gwReq = req as unknown as GatewayRequest;
    const error = asGatewayError(err);
    ctx.metrics().error(undefined, ERROR_CATALOG[error.code].type);
    if (error.code === 'GW_INTERNAL') ctx.logger.error('management endpoint failed', { requestId: gwReq.id, error: String(err) });
    writeProblem(res, error, req.originalUrl.split('?')[0], gwReq.id);
  });
  return app;
}
