import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import yaml from 'js-yaml';

// No Docker engine runs the tests: these files are checked for what can be checked without one.
const ROOT = join(__dirname, '..', '..');
const DOCKER = join(ROOT, 'docker');
const read = (relative: string) => readFileSync(join(DOCKER, relative), 'utf8');

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: string[];
}
const compose = yaml.load(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

describe('docker/docker-compose.yml', () => {
  it('runs the gateway, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'prometheus']);
  });

  it('builds the gateway from the repository with docker/Dockerfile', () => {
    const build = compose.services.gateway.build!;
    const context = resolve(DOCKER, build.context);
    expect(context).toBe(resolve(ROOT));
    expect(existsSync(join(context, build.dockerfile))).toBe(true);
  });

  it.each(Object.entries(compose.services).flatMap(([name, s]) => (s.volumes ?? []).map((v) => [name, v])))('%s mounts %s from a file or folder that exists', (_service, volume) => {
    const source = volume.split(':')[0];
    expect(source.startsWith('.')).toBe(true);
    expect(existsSync(resolve(DOCKER, source))).toBe(true);
  });

  it('mounts alerts.yml where prometheus.yml looks for it (relative to itself)', () => {
    const prometheus = yaml.load(read('prometheus.yml')) as { rule_files: string[]; scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const mounts = new Map((compose.services.prometheus.volumes ?? []).map((v) => [v.split(':')[1], v.split(':')[0]]));
    const configAt = dirname([...mounts.entries()].find(([, src]) => src === './prometheus.yml')![0]);
    for (const rules of prometheus.rule_files) expect(mounts.get(`${configAt}/${rules}`)).toBe(`./${rules}`);
    // Prometheus scrapes the management listener, which the compose file turns on and does not publish.
    const managementPort = compose.services.gateway.environment?.MANAGEMENT_PORT;
    expect(managementPort).toMatch(/^\d+$/);
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual([`gateway:${managementPort}`]);
    expect((compose.services.gateway.ports ?? []).some((p) => p.includes(String(managementPort)))).toBe(false);
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

  it('asks for secrets instead of shipping them', () => {
    expect(compose.services.gateway.environment?.AUTHENTICATION__JWT_SECRET_KEY).toMatch(/^\$\{AUTHENTICATION__JWT_SECRET_KEY:\?/);
    expect(compose.services.grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
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
  ])('has %s', (_what, pattern) => {
    expect(instructions.some((l) => pattern.test(l))).toBe(true);
  });

  it('ends as the non-root user (USER after the last FROM)', () => {
    const lastFrom = instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
    expect(instructions.slice(lastFrom).some((l) => l.startsWith('USER '))).toBe(true);
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
