import type { GatewayConfig, RouteConfig } from '../config/types';

/** A response of the gateway's own: problem+json (#/components/schemas/Problem). */
export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

export function authRequired(config: GatewayConfig, route: RouteConfig): boolean {
  return config.auth.enabled && route.auth.required;
}

export function rateLimitOf(config: GatewayConfig, route: RouteConfig) {
  if (!route.rateLimit.enabled || !config.rateLimiting.enabled) return undefined;
  const { requestsPerMinute, burst, key } = route.rateLimit;
  return { requestsPerMinute, burst, key };
}

/** The security requirement of a route's operations: the gateway's scheme, whatever the service declares. */
export function securityOf(config: GatewayConfig, route: RouteConfig): Record<string, string[]>[] {
  return authRequired(config, route) ? [{ bearer: [] }] : [];
}

/** What the gateway itself may answer on a route, before or instead of the service. */
export function gatewayAnswers(config: GatewayConfig, route: RouteConfig): Record<string, unknown> {
  const secured = authRequired(config, route);
  const responses: Record<string, unknown> = {
    '502': problem('no answer from the service (connection refused or reset)'),
    '503': problem('no healthy instance, or every circuit is open'),
    '504': problem(`the service did not answer within ${route.timeout}`),
  };
  if (secured) responses['401'] = problem('missing, invalid or expired bearer token');
  if (secured && (route.auth.roles.length || route.auth.anyRole.length)) responses['403'] = problem('the token lacks a required role');
  if (rateLimitOf(config, route)) responses['429'] = problem('rate limit exceeded; see Retry-After');
  return responses;
}

/** Stable, short disambiguator for operation ids. */
export function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}
