import { RESTRICTED_MANAGEMENT_PATHS } from '../routing/management-paths';
import type { OpenApiPathItem } from './openapi-types';

export const MANAGEMENT_TAG = 'gateway';

const json = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

function get(summary: string, description: string, responses: Record<string, unknown>): OpenApiPathItem {
  return { get: { tags: [MANAGEMENT_TAG], summary, description, security: [], responses } };
}

/** Which management endpoints answer, for the config and the client asking. */
export interface ManagementListing {
  metrics: boolean;
  /**
   * Whether this client may call the endpoints ipFilter.managementAllow guards (/metrics, /services,
   * /health/services, /admin); those it would get 403 for are not listed.
   */
  restricted: boolean;
  /** The admin endpoints, when ADMIN_TOKEN is set (else they answer 404); `reload` when there is a routes file to reload. */
  admin: { reload: boolean } | undefined;
}

/**
 * The endpoints the gateway answers itself, those this client would get an answer from. Written by
 * hand beside the code that serves them (src/server/management.ts): their shapes are fixed, unlike
 * the routes, which come from the config.
 */
export function managementPaths(options: ManagementListing): Record<string, OpenApiPathItem> {
  const adminSecurity = [{ adminToken: [] }];
  const adminErrors = { '401': problem('GW_ADMIN_UNAUTHORIZED: missing or wrong admin token') };
  const paths: Record<string, OpenApiPathItem> = {
    '/': get('Gateway overview', 'Name, version, environment, uptime, routes, services with their status and instance counts, and the reload state of the routes file.', {
      '200': json('the overview'),
    }),
    '/health': get('Liveness', '`{"status":"ok"}` while the process serves.', {
      '200': json('alive', { type: 'object', properties: { status: { const: 'ok' }, uptimeSeconds: { type: 'integer' } } }),
    }),
    '/ready': get(
      'Readiness',
      '`200` while a config is loaded and the gateway takes traffic; `503` from the moment it is told to stop (SIGTERM), through its shutdown delay and drain. Never depends on the services behind it.',
      {
        '200': json('ready', { type: 'object', properties: { status: { const: 'ready' } } }),
        '503': json('shutting down', { type: 'object', properties: { status: { const: 'shutting_down' } } }),
      },
    ),
    '/health/services': get(
      'Health of every service and instance',
      "Overall and per-service status with each instance's health, circuit state and in-flight count; for a service whose instances are found in DNS, a `discovery` block (name, record type, last success, last error, next refresh).",
      {
        '200': json('healthy or degraded'),
        '503': json('unhealthy: some service has no available instance'),
      },
    ),
    '/services': get(
      'Services and their instances',
      'Each service, its status and load balancer, its instances (listed, or found in DNS: then with a `discovery` block), the routes that use it and, for a service that publishes one, how fetching its OpenAPI document goes.',
      {
        '200': json('the services'),
      },
    ),
    '/docs': get('This documentation, rendered with Swagger UI', "Generated from the running config and the services' own documents on every request.", {
      '200': { description: 'the page', content: { 'text/html': {} } },
    }),
    '/docs/openapi.json': get('This OpenAPI document', "Generated from the running config and the services' documents as last fetched, on every request, so it follows hot reloads.", {
      '200': json('the OpenAPI 3.1 document'),
    }),
    '/admin/reload': {
      post: {
        tags: [MANAGEMENT_TAG],
        summary: 'Reload the routes file now',
        security: adminSecurity,
        responses: { '200': json('reloaded, or unchanged'), '422': json('refused: invalid file or a change that needs a restart; the running config stays'), ...adminErrors },
      },
    },
    '/admin/config': {
      get: {
        tags: [MANAGEMENT_TAG],
        summary: 'The running resolved config, secrets masked',
        security: adminSecurity,
        responses: { '200': json('the config'), ...adminErrors },
      },
    },
  };
  if (!options.admin?.reload) delete paths['/admin/reload'];
  if (!options.admin) delete paths['/admin/config'];
  if (options.metrics) {
    paths['/metrics'] = get('Prometheus metrics', 'Text exposition format; the metric names are listed in the README.', {
      '200': { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
    });
  }
  if (!options.restricted) {
    for (const path of Object.keys(paths)) if (RESTRICTED_MANAGEMENT_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) delete paths[path];
  }
  return paths;
}
