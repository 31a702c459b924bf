/**
 * Paths the gateway answers itself. A route may not claim them or anything below them, so that
 * health probes, metrics and admin calls can never be shadowed by a routes.yaml edit.
 */
export const MANAGEMENT_PATHS = ['/', '/health', '/ready', '/metrics', '/services', '/docs', '/admin'] as const;

/** The management paths that reveal the deployment or change it (ipFilter.managementAllow guards them); `GET /` and `/health` stay open for probes. */
export const RESTRICTED_MANAGEMENT_PATHS = ['/metrics', '/services', '/health/services', '/admin'];

export function isManagementPath(prefix: string): string | undefined {
  if (prefix === '/') return '/';
  return MANAGEMENT_PATHS.find((p) => p !== '/' && (prefix === p || prefix.startsWith(`${p}/`)));
}
