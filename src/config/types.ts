/**
 * The resolved configuration: routes.yaml after env interpolation, environment overrides, schema
 * validation and defaults. Field names are those of routes.yaml (schemas/routes.schema.json is the
 * contract and documents each one). Durations and sizes stay strings here; compile parses them.
 */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
export type Algorithm = 'round_robin' | 'weighted_round_robin' | 'least_connections';

export interface AuthPolicy {
  required: boolean;
  roles: string[];
  anyRole: string[];
  stripAuthorization: boolean;
  /** Query parameters and cookies that may carry the token besides Authorization. */
  tokenFrom: { query: string[]; cookies: string[] };
}

export interface RateLimitPolicy {
  enabled: boolean;
  requestsPerMinute: number;
  burst: number;
  key: string;
}

export interface HeaderOps {
  set: Record<string, string>;
  add: Record<string, string>;
  remove: string[];
}

export interface TransformPolicy {
  request: { headers: HeaderOps; query: { set: Record<string, string>; remove: string[] } };
  response: { headers: HeaderOps };
}

export interface RetryPolicy {
  attempts: number;
  methods: HttpMethod[];
  on: number[];
  budget: { ratio: number; minPerSecond: number };
}

export interface IpFilterPolicy {
  allow: string[];
  deny: string[];
}

export interface InstanceConfig {
  url: string;
  weight: number;
}

/** A service's instances from DNS instead of a list; `dns: ""` (the default) means none. */
export interface DiscoveryConfig {
  dns: string;
  type: 'auto' | 'A' | 'AAAA' | 'SRV';
  port: number;
  scheme: 'http' | 'https';
  refresh: string;
  minRefresh: string;
  timeout: string;
}

/** Where a service publishes its OpenAPI document, and how the gateway keeps its copy fresh. */
export interface ServiceOpenApiConfig {
  path: string;
  refresh: string;
  timeout: string;
  maxSize: string;
}

export interface ServiceConfig {
  instances: InstanceConfig[];
  discovery: DiscoveryConfig;
  /** null: the service publishes none; its routes are documented as route entries. */
  openapi: ServiceOpenApiConfig | null;
  loadBalancer: Algorithm;
  connections: number;
  healthCheck: {
    enabled: boolean;
    path: string;
    interval: string;
    timeout: string;
    healthyThreshold: number;
    unhealthyThreshold: number;
    expectStatus: number[];
  };
  circuitBreaker: {
    enabled: boolean;
    failureThreshold: number;
    minimumRequests: number;
    window: string;
    openFor: string;
    maxOpenFor: string;
    halfOpenRequests: number;
  };
}

export interface RouteConfig {
  name: string;
  path: string;
  service: string;
  rewrite?: string;
  methods: HttpMethod[];
  host: string;
  timeout: string;
  /** The longest silence allowed between two chunks of an answer's body (server-sent events). */
  streamIdleTimeout: string;
  maxBodySize: string;
  websocket: boolean;
  contentTypes: string[];
  auth: AuthPolicy;
  rateLimit: RateLimitPolicy;
  transform: TransformPolicy;
  validate: Record<string, string>;
  retry: RetryPolicy;
  ipFilter: IpFilterPolicy;
}

export interface GatewayConfig {
  version: 1;
  gateway: {
    host: string;
    port: number;
    environment: string;
    requestTimeout: string;
    headersTimeout: string;
    keepAliveTimeout: string;
    drainTimeout: string;
    shutdownDelay: string;
    /** Worker processes: 1 (no cluster), a count, or one per core. */
    workers: number | 'auto';
    maxConcurrentRequests: number;
    maxConcurrentRequestsPerClient: number;
    maxBodySize: string;
    maxHeaderSize: string;
    releaseBodyMemoryEvery: string;
    trustProxy: number | string[];
    /** The management listener's port; 0: no such listener. */
    managementPort: number;
    /** Its address; empty: the same as `host`. */
    managementHost: string;
    dropUnderscoreHeaders: boolean;
    /** DNS servers for service discovery (`host` or `host:port`); empty: the system's. */
    dnsServers: string[];
  };
  defaults: {
    timeout: string;
    auth: AuthPolicy;
    rateLimit: RateLimitPolicy;
    transform: TransformPolicy;
    retry: RetryPolicy;
  };
  auth: {
    enabled: boolean;
    jwt: {
      secret: string;
      publicKey: string;
      jwksUri: string;
      jwksCacheTtl: string;
      jwksRefetchInterval: string;
      algorithms: string[];
      issuer: string;
      audience: string;
      clockTolerance: string;
      maxAge: string;
    };
    validateWith: { enabled: boolean; service: string; path: string; cacheTtl: string; rejectedCacheTtl: string; timeout: string };
    forwardClaims: Record<string, string>;
    rolesClaim: string;
    cacheMaxEntries: number;
  };
  rateLimiting: {
    enabled: boolean;
    store: 'memory' | 'redis';
    redisUrl: string;
    onStoreError: 'allow' | 'deny';
    prefix: string;
    global: { enabled: boolean; requestsPerMinute: number; burst: number };
  };
  cors: {
    enabled: boolean;
    origins: string[];
    methods: HttpMethod[];
    headers: string[];
    exposeHeaders: string[];
    credentials: boolean;
    maxAge: number;
    checkWebSocketOrigin: boolean;
  };
  securityHeaders: { enabled: boolean; hsts: boolean; contentSecurityPolicy: string; frameguard: 'deny' | 'sameorigin' };
  ipFilter: { allow: string[]; deny: string[]; managementAllow: string[] };
  loadBalancing: { enabled: boolean; algorithm: Algorithm };
  monitoring: { metrics: boolean; logRequests: boolean };
  services: Record<string, ServiceConfig>;
  routes: RouteConfig[];
}
