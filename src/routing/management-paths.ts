/**
 * Paths the gateway answers itself. A route may not claim them or anything below them, so that
 * health probes, metrics and admin calls can never be shadowed by a routes.yaml edit.
 */
export const MANAGEMENT_PATHS = ['/', '/health', '/ready', '/metrics', '/services', '/docs', '/admin'] as const;

export function isManagementPath(prefix: string): string | undefined {
  if (prefix === '/') return '/';
  return MANAGEMENT_PATHS.find((p) => p !== '/' && (prefix === p || prefix.startsWith(`${p}/`)));
}
