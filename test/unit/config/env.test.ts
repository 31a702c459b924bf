import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigText } from '../../../src/config';
import { environmentWithDotEnv } from '../../../src/config/env';
import { formatProblem } from '../../../src/config/errors';

const BASE = `version: 1
services:
  samples:
    instances: ["http://\${SERVICES__SAMPLES__HOST:-sample-service}:8081"]
  rag-store:
    instances: ["http://rag:8086", { url: "http://rag-2:8086", weight: 2 }]
routes:
  - { name: samples, path: /samples, service: samples }
  - { name: rag, path: /rag, service: rag-store }
`;

function resolve(env: Record<string, string>, text = BASE) {
  const result = checkConfigText('routes.yaml', text, env);
  return { config: result.config, messages: result.problems.map(formatProblem) };
}

describe('${VAR} interpolation', () => {
  it('uses the default when the variable is unset and the value when set', () => {
    expect(resolve({}).config?.services.samples.instances[0].url).toBe('http://sample-service:8081');
    expect(resolve({ SERVICES__SAMPLES__HOST: '10.1.2.3' }).config?.services.samples.instances[0].url).toBe('http://10.1.2.3:8081');
  });

  it('reports an unset variable without default at its line and column, naming it', () => {
    const { config, messages } = resolve({}, BASE.replace('8081"]', '${SAMPLES_PORT}"]'));
    expect(config).toBeUndefined();
    expect(messages[0]).toBe('routes.yaml:4:17 error /services/samples/instances/0: environment variable "SAMPLES_PORT" is not set; set it, or give a default: ${SAMPLES_PORT:-value}');
  });

  it('leaves transform placeholders such as ${request.id} alone', () => {
    const { config } = resolve({}, BASE.replace('  - { name: samples, path: /samples, service: samples }', '  - { name: samples, path: /samples, service: samples, host: "${request.id}" }'));
    expect(config).toBeUndefined(); // not a host name, but still the literal text
  });
});

describe('environment overrides', () => {
  it.each([
    ['HOST', '127.0.0.1', (c: any) => c.gateway.host, '127.0.0.1'],
    ['PORT', '9001', (c: any) => c.gateway.port, 9001],
    ['ENVIRONMENT', 'production', (c: any) => c.gateway.environment, 'production'],
    ['REQUEST_TIMEOUT', '12', (c: any) => c.routes[0].timeout, '12000ms'],
    ['MAX_CONCURRENT_REQUESTS', '50', (c: any) => c.gateway.maxConcurrentRequests, 50],
    ['MAX_CONCURRENT_REQUESTS_PER_CLIENT', '0', (c: any) => c.gateway.maxConcurrentRequestsPerClient, 0],
    ['LOAD_BALANCER__ENABLED', 'false', (c: any) => c.loadBalancing.enabled, false],
    ['LOAD_BALANCER__ALGORITHM', 'least_connections', (c: any) => c.services.samples.loadBalancer, 'least_connections'],
    ['AUTHENTICATION__ENABLED', 'false', (c: any) => c.auth.enabled, false],
    ['AUTHENTICATION__JWT_SECRET_KEY', 's3cret', (c: any) => c.auth.jwt.secret, 's3cret'],
    ['RATE_LIMITING__ENABLED', 'false', (c: any) => c.rateLimiting.enabled, false],
    ['RATE_LIMITING__DEFAULT_REQUESTS_PER_MINUTE', '120', (c: any) => c.routes[1].rateLimit.requestsPerMinute, 120],
    ['RATE_LIMITING__REDIS_URL', 'redis://127.0.0.1:6379', (c: any) => [c.rateLimiting.store, c.rateLimiting.redisUrl], ['redis', 'redis://127.0.0.1:6379']],
    ['CORS__ALLOW_ORIGINS', '["http://localhost:3000"]', (c: any) => c.cors.origins, ['http://localhost:3000']],
    ['MONITORING__METRICS_ENABLED', 'false', (c: any) => c.monitoring.metrics, false],
    ['MONITORING__LOG_REQUESTS', '0', (c: any) => c.monitoring.logRequests, false],
    ['SERVICES__SAMPLES__PORT', '9081', (c: any) => c.services.samples.instances[0].url, 'http://sample-service:9081'],
    ['SERVICES__RAG_STORE__HOST', 'rag.internal', (c: any) => c.services['rag-store'].instances.map((i: any) => i.url), ['http://rag.internal:8086', 'http://rag.internal:8086']],
    [
      'SERVICES__RAG_STORE__URLS',
      'http://a:1, http://b:2',
      (c: any) => c.services['rag-store'].instances,
      [
        { url: 'http://a:1', weight: 1 },
        { url: 'http://b:2', weight: 1 },
      ],
    ],
  ])('%s=%s', (variable, value, read, expected) => {
    const { config, messages } = resolve({ [variable]: value });
    expect(messages).toEqual([]);
    expect(read(config)).toEqual(expected);
  });

  it('keeps the instance weight when SERVICES__<NAME>__HOST rewrites an instance object', () => {
    const { config } = resolve({ SERVICES__RAG_STORE__HOST: 'r' });
    expect(config?.services['rag-store'].instances[1]).toEqual({ url: 'http://r:8086', weight: 2 });
  });

  it.each([
    ['PORT', 'abc', 'PORT="abc" must be a whole number from 1 to 65535; fix or unset PORT'],
    ['CORS__ALLOW_ORIGINS', 'not-json', 'CORS__ALLOW_ORIGINS="not-json" must be a JSON array of strings'],
    ['REQUEST_TIMEOUT', '30s', 'REQUEST_TIMEOUT="30s" must be a number of seconds, e.g. 30'],
    ['LOAD_BALANCER__ALGORITHM', 'random', 'LOAD_BALANCER__ALGORITHM="random" must be one of round_robin'],
    ['MONITORING__LOG_REQUESTS', 'maybe', 'MONITORING__LOG_REQUESTS="maybe" must be true or false'],
    ['SERVICES__SAMPLES__URLS', 'not a url', 'SERVICES__SAMPLES__URLS="not a url" must be a comma-separated list of http(s) URLs'],
    ['RATE_LIMITING__REDIS_URL', '::', 'RATE_LIMITING__REDIS_URL="::" must be a URL'],
  ])('a malformed %s is an error naming the variable', (variable, value, message) => {
    const { config, messages } = resolve({ [variable]: value });
    expect(config).toBeUndefined();
    expect(messages.join('\n')).toContain(message);
  });

  it('warns about a SERVICES__ variable that names no service', () => {
    const { config, messages } = resolve({ SERVICES__SAMPLE__HOST: 'x' });
    expect(config).toBeDefined();
    expect(messages[0]).toContain('warning /services: SERVICES__SAMPLE__HOST names no service of this file');
  });
});

describe('.env file', () => {
  it('is read when present; the process environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'PORT=8100\nENVIRONMENT=from-file\n# comment\n');
    expect(environmentWithDotEnv({ ENVIRONMENT: 'from-process' }, file)).toEqual({ PORT: '8100', ENVIRONMENT: 'from-process' });
    expect(environmentWithDotEnv({ A: '1' }, join(dir, 'missing.env'))).toEqual({ A: '1' });
  });
});

describe('defaults', () => {
  it('routes inherit defaults; a route block is merged over the default block key by key', () => {
    const { config } = resolve(
      {},
      `version: 1
gateway: { maxBodySize: 2mb }
defaults:
  timeout: 7s
  retry: { attempts: 1, on: [503] }
services:
  s: { instances: ["http://s:1"] }
routes:
  - { name: a, path: /a, service: s }
  - { name: b, path: /b, service: s, timeout: 2s, maxBodySize: 1gb, retry: { methods: [GET] } }
`,
    );
    expect(config?.routes[0]).toMatchObject({ timeout: '7s', maxBodySize: '2mb', retry: { attempts: 1, on: [503], methods: expect.arrayContaining(['GET', 'PUT']) } });
    expect(config?.routes[1]).toMatchObject({ timeout: '2s', maxBodySize: '1gb', retry: { attempts: 1, on: [503], methods: ['GET'] } });
    expect(config?.routes[0].methods).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
    expect(config?.services.s).toMatchObject({ loadBalancer: 'round_robin', connections: 128, instances: [{ url: 'http://s:1', weight: 1 }] });
  });
});
