import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { parseDuration } from '../../src/config/units';
import { DEMO_JWT_SECRET } from '../../src/demo/demo-user';
import { planStandIn } from '../../src/demo/serve-one';

// No Docker engine runs the tests: these files are checked for what can be checked without one.
const ROOT = join(__dirname, '..', '..');
const DOCKER = join(ROOT, 'docker');
const read = (relative: string) => readFileSync(join(DOCKER, relative), 'utf8');
const routesYaml = readFileSync(join(ROOT, 'routes.yaml'), 'utf8');

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
type ComposeFile = { version?: string; name?: string; services: Record<string, ComposeService> };
const compose = yaml.load(read('docker-compose.yml')) as ComposeFile;
const demo = yaml.load(read('docker-compose.demo.yml')) as ComposeFile;

/**
 * `docker-compose config` (Debian's 1.29; .ci/run installs it) on the given files, with no variable
 * set: validates them against its Compose Specification schema, interpolates, merges and prints
 * the result. Returns that result parsed.
 */
function composeConfig(...files: string[]): ComposeFile {
  const args = files.flatMap((f) => ['-f', join(DOCKER, f)]).concat('config');
  const run = spawnSync('docker-compose', args, { env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, encoding: 'utf8' });
  if (run.error) throw new Error(`docker-compose is needed for these tests (Debian: apt-get install docker-compose): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`docker-compose config failed:\n${run.stderr}`);
  // A warning is a variable without a default ("The X variable is not set. Defaulting to a blank string.").
  if (run.stderr.trim()) throw new Error(`docker-compose config warned:\n${run.stderr}`);
  return yaml.load(run.stdout) as ComposeFile;
}

/** The TracSeq services: Compose host name, routes.yaml service name, port. */
const TRACSEQ = [
  ['auth-service', 'auth', 8080],
  ['sample-service', 'samples', 8081],
  ['enhanced-storage-service', 'storage', 8082],
  ['template-service', 'templates', 8083],
  ['sequencing-service', 'sequencing', 8084],
  ['notification-service', 'notifications', 8085],
  ['enhanced-rag-service', 'rag', 8086],
] as const;

describe('docker/docker-compose.yml', () => {
  const merged = composeConfig('docker-compose.yml');

  it('is valid for docker-compose 1.29, in the format Compose v2 reads too (no version, no top-level name)', () => {
    expect(compose.version).toBeUndefined();
    expect(compose.name).toBeUndefined();
    expect(Object.keys(merged.services).length).toBe(Object.keys(compose.services).length);
  });

  it('runs the gateway, Redis, Prometheus, Grafana and the seven TracSeq services, each with its database', () => {
    const databases = Object.keys(compose.services).filter((s) => merged.services[s].image?.startsWith('postgres:'));
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'prometheus', 'redis', ...TRACSEQ.map(([host]) => host), ...databases].sort());
    expect(databases).toHaveLength(7);
  });

  it('builds the gateway from the repository with docker/Dockerfile', () => {
    const build = compose.services.gateway.build!;
    const context = resolve(DOCKER, build.context);
    expect(context).toBe(resolve(ROOT));
    expect(existsSync(join(context, build.dockerfile))).toBe(true);
  });

  it.each(TRACSEQ)('%s: the host name routes.yaml defaults %s to, port %d, an image from TRACSEQ_REGISTRY and TRACSEQ_VERSION, its own PostgreSQL', (host, name, port) => {
    expect(routesYaml).toContain(`\${SERVICES__${name.toUpperCase()}__HOST:-${host}}:${port}`);
    const service = merged.services[host];
    expect(service.expose).toEqual([String(port)]);
    expect(service.environment?.PORT).toBe(String(port));
    expect(compose.services[host].image).toBe(`\${TRACSEQ_REGISTRY:-ghcr.io/tracseq}/${host}:\${TRACSEQ_VERSION:-latest}`);
    const [database] = Object.keys(service.depends_on ?? {});
    expect(merged.services[database].image).toMatch(/^postgres:/);
    expect(service.environment?.DATABASE_URL).toContain(`@${database}:5432/`);
    // A database belongs to one service.
    const users = Object.values(merged.services).filter((s) => database in (s.depends_on ?? {}));
    expect(users).toHaveLength(1);
  });

  it('every dependency waits for health, and every service that is waited for has a health check', () => {
    const waitedFor = new Set<string>();
    for (const [name, service] of Object.entries(merged.services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(`${name} -> ${dependency}: ${condition}`).toBe(`${name} -> ${dependency}: service_healthy`);
        waitedFor.add(dependency);
      }
    }
    expect([...waitedFor].sort()).toEqual(['prometheus', 'gateway', 'redis', ...TRACSEQ.map(([host]) => host), ...Object.keys(merged.services).filter((s) => s.endsWith('-db'))].sort());
    // The gateway's health check is the image's HEALTHCHECK; every other service has its own.
    for (const name of waitedFor) if (name !== 'gateway') expect(merged.services[name].healthcheck?.test.length).toBeGreaterThan(0);
    expect(read('Dockerfile')).toMatch(/^HEALTHCHECK .*CMD \["node", "scripts\/healthcheck\.js"\]$/m);
  });

  it('turns rate limiting on with Redis as the store', () => {
    const env = merged.services.gateway.environment!;
    expect(env.RATE_LIMITING__ENABLED).toBe('true');
    expect(new URL(env.RATE_LIMITING__REDIS_URL).host).toBe('redis:6379');
    expect(merged.services.redis.image).toMatch(/^redis:/);
  });

  it("mounts the routes file's folder, not the file, so that atomic saves are seen", () => {
    const file = merged.services.gateway.environment!.ROUTES_FILE;
    const mount = (compose.services.gateway.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === dirname(file));
    expect(mount).toBeDefined();
    expect(existsSync(join(resolve(DOCKER, mount![0]), basename(file)))).toBe(true);
    expect(mount![2]).toBe('ro');
  });

  it.each(Object.entries(compose.services).flatMap(([name, s]) => (s.volumes ?? []).filter((v) => v.startsWith('.')).map((v) => [name, v])))(
    '%s mounts %s from a file or folder that exists',
    (_service, volume) => {
      expect(existsSync(resolve(DOCKER, volume.split(':')[0]))).toBe(true);
    },
  );

  it('publishes only the gateway (8000), Prometheus (9090) and Grafana (3001)', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
    expect(published.sort()).toEqual(['gateway ${GATEWAY_PORTS:-8000}:8000', 'grafana 3001:3001', 'prometheus 9090:9090']);
  });

  it('mounts alerts.yml where prometheus.yml looks for it (relative to itself)', () => {
    const prometheus = yaml.load(read('prometheus.yml')) as { rule_files: string[]; scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const mounts = new Map((compose.services.prometheus.volumes ?? []).map((v) => [v.split(':')[1], v.split(':')[0]]));
    const configAt = dirname([...mounts.entries()].find(([, src]) => src === './prometheus.yml')![0]);
    for (const rules of prometheus.rule_files) expect(mounts.get(`${configAt}/${rules}`)).toBe(`./${rules}`);
    // Prometheus scrapes the management listener, which the compose file turns on and does not publish.
    const managementPort = compose.services.gateway.environment?.MANAGEMENT_PORT;
    expect(managementPort).toMatch(/^\d+$/);
    expect(compose.services.gateway.expose).toEqual([managementPort]);
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual([`gateway:${managementPort}`]);
    expect((compose.services.gateway.ports ?? []).some((p) => p.includes(String(managementPort)))).toBe(false);
  });

  it('serves Grafana on 3001, admin/admin unless GRAFANA_ADMIN_USER and GRAFANA_ADMIN_PASSWORD say otherwise', () => {
    const env = merged.services.grafana.environment!;
    expect(env).toMatchObject({ GF_SERVER_HTTP_PORT: '3001', GF_SECURITY_ADMIN_USER: 'admin', GF_SECURITY_ADMIN_PASSWORD: 'admin' });
    expect(compose.services.grafana.environment).toMatchObject({
      GF_SECURITY_ADMIN_USER: '${GRAFANA_ADMIN_USER:-admin}',
      GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_ADMIN_PASSWORD:-admin}',
    });
    expect(merged.services.grafana.healthcheck?.test.join(' ')).toContain('127.0.0.1:3001/');
  });

  it('points Grafana at the provisioning folders and the Prometheus service', () => {
    const mounts = new Map((compose.services.grafana.volumes ?? []).map((v) => [v.split(':')[1], v.split(':')[0]]));
    expect(mounts.get('/etc/grafana/provisioning')).toBe('./grafana/provisioning');
    const provider = yaml.load(read('grafana/provisioning/dashboards/dashboards.yml')) as { providers: { options: { path: string } }[] };
    expect(mounts.get(provider.providers[0].options.path)).toBe('./grafana/dashboards');
    const datasources = yaml.load(read('grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string }[] };
    expect(datasources.datasources[0].url).toBe('http://prometheus:9090');
    const dashboard = JSON.parse(read('grafana/dashboards/tracseq-gateway.json')) as { panels: { datasource?: { uid: string } }[] };
    for (const p of dashboard.panels) if (p.datasource) expect(p.datasource.uid).toBe(datasources.datasources[0].uid);
  });

  it('ships no JWT secret: without AUTHENTICATION__JWT_SECRET_KEY the gateway refuses to start', () => {
    expect(compose.services.gateway.environment?.AUTHENTICATION__JWT_SECRET_KEY).toBe('${AUTHENTICATION__JWT_SECRET_KEY:-}');
    expect(merged.services.gateway.environment?.AUTHENTICATION__JWT_SECRET_KEY).toBe('');
    expect(merged.services['auth-service'].environment?.JWT_SECRET_KEY).toBe('');
  });

  it('gives the gateway longer than its drain to stop (docker stops after 10 s by default)', () => {
    const drain = parseDuration(String((yaml.load(routesYaml) as { gateway: { drainTimeout: string } }).gateway.drainTimeout))!;
    expect(parseDuration((compose.services.gateway as { stop_grace_period?: string }).stop_grace_period ?? '10s')).toBeGreaterThan(drain);
  });
});

describe('docker/docker-compose.demo.yml over docker-compose.yml', () => {
  const merged = composeConfig('docker-compose.yml', 'docker-compose.demo.yml');

  it('adds no service: it replaces the seven services and their databases', () => {
    expect(Object.keys(demo.services).every((s) => s in compose.services)).toBe(true);
    expect(Object.keys(merged.services).sort()).toEqual(Object.keys(compose.services).sort());
  });

  it.each(TRACSEQ)("%s is the %s stand-in of the gateway's image, on port %d, healthy by its /health", (host, name, port) => {
    const service = merged.services[host];
    expect(service.image).toBe(merged.services.gateway.image);
    expect(service.build).toEqual(merged.services.gateway.build);
    expect(service.command).toEqual(['node', 'dist/demo/serve-one.js', name]);
    expect(planStandIn([name], service.environment ?? {})).toMatchObject({ service: name, port, host: '0.0.0.0' });
    expect(service.healthcheck?.test).toEqual(['CMD', 'node', 'scripts/healthcheck.js']);
  });

  it("needs no PostgreSQL and no registry: every image is the gateway's, built here", () => {
    const images = new Set(
      Object.entries(merged.services)
        .filter(([name]) => !['redis', 'prometheus', 'grafana'].includes(name))
        .map(([, s]) => s.image),
    );
    expect([...images]).toEqual([merged.services.gateway.image]);
    for (const s of Object.values(merged.services)) if (s.image === merged.services.gateway.image) expect(s.build).toBeDefined();
  });

  it('comes up with no variable set: the gateway and the auth stand-in share the demo secret', () => {
    expect(merged.services.gateway.environment?.AUTHENTICATION__JWT_SECRET_KEY).toBe(DEMO_JWT_SECRET);
    expect(planStandIn(['auth'], merged.services['auth-service'].environment ?? {}).jwtSecret).toBe(DEMO_JWT_SECRET);
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

  it.each([
    ['a Node 22 LTS base image', /^FROM node:22[-\w.]*( AS \w+)?$/],
    ['npm ci from the lock file', /^RUN npm ci\b/],
    ['the build', /^RUN npm run build$/],
    ['a non-root user', /^USER (?!root\b|0\b)\w+$/],
    ['the start command', /^CMD \["node", "dist\/cli\/index\.js", "start"\]$/],
    ['tini from Debian as PID 1 (forwards SIGTERM and SIGHUP, reaps zombies)', /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/],
    ['a HEALTHCHECK on /health', /^HEALTHCHECK .*CMD \["node", "scripts\/healthcheck\.js"\]$/],
  ])('has %s', (_what, pattern) => {
    expect(instructions.some((l) => pattern.test(l))).toBe(true);
  });

  it('ends as the non-root user (USER after the last FROM)', () => {
    const lastFrom = instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
    expect(instructions.slice(lastFrom).some((l) => l.startsWith('USER '))).toBe(true);
  });

  it('installs tini in the image it runs (the last stage)', () => {
    const lastFrom = instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
    expect(dockerfile.slice(dockerfile.lastIndexOf(instructions[lastFrom]))).toMatch(/apt-get install -y --no-install-recommends tini\b/);
  });

  it.each(instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).map((l) => [l]))('%s copies files of the repository', (line) => {
    const sources = line.split(/\s+/).slice(1, -1);
    for (const s of sources) expect(existsSync(join(ROOT, s))).toBe(true);
  });
});

describe('docker/grafana/dashboards', () => {
  it.each(readdirSync(join(DOCKER, 'grafana', 'dashboards')).map((f) => [f]))('%s is a dashboard with a uid and unique panel ids', (file) => {
    const dashboard = JSON.parse(read(`grafana/dashboards/${file}`)) as { uid: string; panels: { id: number }[] };
    expect(dashboard.uid).toBeTruthy();
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
