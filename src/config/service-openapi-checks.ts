import type { GatewayConfig } from './types';
import { escapePointerToken } from './source-map';
import { parseDuration, parseSize } from './units';

type Report = (pointer: string, message: string, options?: { key?: boolean; severity?: 'error' | 'warning' }) => void;

/**
 * `services.<name>.openapi`: what the schema cannot say. The schema already checked the shapes
 * (a path, durations, a size); here the values that would make the fetcher useless.
 */
export function checkServiceOpenApi(c: GatewayConfig, report: Report): void {
  const services = c.services && typeof c.services === 'object' ? c.services : {};
  const routed = new Set((Array.isArray(c.routes) ? c.routes : []).map((r) => r?.service));
  for (const [name, service] of Object.entries(services)) {
    const openapi = service?.openapi;
    if (!openapi || typeof openapi !== 'object') continue;
    const at = `/services/${escapePointerToken(name)}/openapi`;
    const refresh = typeof openapi.refresh === 'string' ? parseDuration(openapi.refresh) : undefined;
    const timeout = typeof openapi.timeout === 'string' ? parseDuration(openapi.timeout) : undefined;
    if (refresh !== undefined && refresh < 1000) report(`${at}/refresh`, `"${openapi.refresh}" is too short: fetch the document at most once a second (e.g. 5m)`);
    if (timeout === 0) report(`${at}/timeout`, `"${openapi.timeout}" must be longer than 0`);
    if (typeof openapi.maxSize === 'string' && parseSize(openapi.maxSize) === 0) report(`${at}/maxSize`, `"${openapi.maxSize}" must be larger than 0`);
    if (!routed.has(name)) {
      report(at, `no route points at service "${name}", so none of its document would be shown; remove openapi or add a route`, { severity: 'warning' });
    }
  }
}
