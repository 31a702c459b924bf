import type { GatewayConfig } from '../config/types';
import { buildOpenApi } from '../docs/openapi';
import { schemaReader } from '../docs/schema-files';

/**
 * The OpenAPI document `GET /docs/openapi.json` would serve for this config, as indented JSON, so
 * that it can be published or diffed without running a gateway.
 */
export function openApiText(config: GatewayConfig, routesFile: string): string {
  return `${JSON.stringify(buildOpenApi(config, { readSchema: schemaReader(routesFile) }), null, 2)}\n`;
}
