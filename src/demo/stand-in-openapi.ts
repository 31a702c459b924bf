/**
 * The small OpenAPI document each demo stand-in publishes at /openapi.json, so that the demo's
 * /docs shows services' own operations at the gateway's paths. Paths are relative to the server
 * URL `/api/v1`, where the stand-ins answer, as a FastAPI or Axum service behind a prefix would say.
 */
export const STAND_IN_OPENAPI_PATH = '/openapi.json';

const echo = { description: 'what the service received (the stand-in echoes the request)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Echo' } } } };

function resourceDocument(service: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: `TracSeq ${service} service (demo stand-in)`, version: '1.0.0' },
    servers: [{ url: '/api/v1' }],
    paths: {
      '/list': { get: { operationId: 'list', summary: `List ${service}`, responses: { '200': echo } } },
      '/{id}': {
        get: {
          operationId: 'get',
          summary: `One item of ${service} by id`,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': echo, '404': { description: 'no such item' } },
        },
      },
      '/': {
        post: {
          operationId: 'create',
          summary: `Create an item of ${service}`,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
          responses: { '200': echo },
        },
      },
    },
    components: {
      schemas: {
        // Every stand-in names its schemas the same: the gateway's merge must keep them apart.
        Item: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        Echo: { type: 'object', properties: { service: { type: 'string' }, method: { type: 'string' }, path: { type: 'string' } } },
      },
    },
  };
}

function authDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'TracSeq auth service (demo stand-in)', version: '1.0.0' },
    servers: [{ url: '/api/v1' }],
    paths: {
      '/login': {
        post: {
          operationId: 'login',
          summary: 'Log in; answers a bearer token',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Credentials' } } } },
          responses: {
            '200': { description: 'the token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Token' } } } },
            '401': { description: 'wrong username or password (problem+json)' },
          },
        },
      },
    },
    components: {
      schemas: {
        Credentials: { type: 'object', properties: { username: { type: 'string', example: 'demo' }, password: { type: 'string', example: 'tracseq-demo' } }, required: ['username', 'password'] },
        Token: { type: 'object', properties: { access_token: { type: 'string' }, token_type: { const: 'Bearer' }, expires_in: { type: 'integer' } } },
      },
    },
  };
}

/** The document of `service`'s stand-in: the auth stand-in documents its login, the others a small resource API. */
export function standInDocument(service: string, issuesTokens: boolean): Record<string, unknown> {
  return issuesTokens ? authDocument() : resourceDocument(service);
}
