/**
 * The parts of OpenAPI 3.1 the generator writes. Loose on purpose where values are JSON Schemas or
 * response maps: those are data the document carries, not structures the code reads back.
 */
export interface OpenApiOperation {
  tags: string[];
  summary: string;
  description?: string;
  operationId?: string;
  parameters?: Record<string, unknown>[];
  security: Record<string, string[]>[];
  requestBody?: Record<string, unknown>;
  responses: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
}

export type OpenApiPathItem = Partial<Record<'get' | 'head' | 'post' | 'put' | 'patch' | 'delete' | 'options', OpenApiOperation>> & {
  summary?: string;
  description?: string;
  [extension: `x-${string}`]: unknown;
};

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; [extension: `x-${string}`]: unknown };
  servers: { url: string; description?: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, OpenApiPathItem>;
  /** The gateway's own, and the services' components renamed `<service>.<name>` (never colliding). */
  'x-gateway-routes': { name: string; prefix: string; entry: boolean }[];
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown>; [section: string]: Record<string, unknown> };
}
