import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { checkConfigText } from '../../src/config';
import { parseDuration } from '../../src/config/units';

// No cluster runs the tests: the Kustomize base is assembled here as kustomize does (its resources,
// in order), every object is validated against the Kubernetes API schemas of kubernetes-models (the
// Prometheus Operator's for the ServiceMonitor), and the fields that make a rollout safe are checked.
const ROOT = join(__dirname, '..', '..');
const BASE = join(ROOT, 'docker', 'k8s');
const MONITORING = join(ROOT, 'docker', 'k8s-monitoring');

interface Kustomization {
  resources: string[];
  images?: { name: string; newName: string; newTag: string }[];
}
// Enough of the object shapes for the checks below; the models validate the rest.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };

const readKustomization = (dir: string) => yaml.load(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;

/** The objects of a kustomization, in order: files' documents, and other kustomizations' objects. */
function assemble(dir: string): Manifest[] {
  return readKustomization(dir).resources.flatMap((resource) => {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) return assemble(path);
    return yaml.loadAll(readFileSync(path, 'utf8')).filter(Boolean) as Manifest[];
  });
}

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

const base = assemble(BASE);
const find = (kind: string, name: string) => {
  const found = base.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in docker/k8s`);
  return found;
};
const gateway = find('Deployment', 'tracseq-gateway');
const pod = gateway.spec.template.spec;
const container = pod.containers.find((c: { name: string }) => c.name === 'gateway');
const env = (name: string): string | undefined => container.env.find((e: { name: string }) => e.name === name)?.value;
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const podLabels: Record<string, string> = gateway.spec.template.metadata.labels;
const routesConfigMap = find('ConfigMap', 'tracseq-gateway-routes');
const shippedRoutes = readFileSync(join(ROOT, 'routes.yaml'), 'utf8');

describe.each([
  ['docker/k8s', BASE],
  ['docker/k8s-monitoring', MONITORING],
])('%s/kustomization.yaml', (_name, dir) => {
  it('lists every manifest of its folder, and every listed resource exists', () => {
    const listed = readKustomization(dir).resources;
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(listed.filter((r) => !r.startsWith('..')).sort()).toEqual(files.sort());
    for (const r of listed) expect(() => statSync(join(dir, r))).not.toThrow();
  });

  it.each(assemble(dir).map((m) => [`${m.kind} ${m.metadata.name}`, m]))('%s validates against the API schema', (_what, manifest) => {
    const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
    expect(Model).toBeDefined();
    expect(() => new Model(manifest).validate()).not.toThrow();
  });
});

describe('the schema validation', () => {
  it('refuses a malformed manifest (so that passing means something)', () => {
    const broken = structuredClone(gateway);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort must be integer/);
  });
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
(kubectl ? describe : describe.skip)('kubectl kustomize (when kubectl is installed)', () => {
  it.each([
    ['docker/k8s', BASE],
    ['docker/k8s-monitoring', MONITORING],
  ])('%s builds to the objects assembled here, with the image set', (_name, dir) => {
    const built = yaml.loadAll(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })) as Manifest[];
    const key = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
    expect(built.map(key).sort()).toEqual(assemble(dir).map(key).sort());
    const image = readKustomization(BASE).images![0];
    const deployment = built.find((m) => key(m) === 'Deployment/tracseq-gateway')!;
    expect(deployment.spec.template.spec.containers[0].image).toBe(`${image.newName}:${image.newTag}`);
  });
});

describe('the gateway Deployment', () => {
  it('runs 2 or more replicas of one process each, about one CPU per pod', () => {
    expect(gateway.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(container.resources.requests.cpu).toBe('1');
    expect(container.resources.limits.cpu).toBe('1');
    expect(container.resources.requests.memory).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('names its ports: http 8000, management 9000, as PORT and MANAGEMENT_PORT say', () => {
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8000 },
      { name: 'management', containerPort: 9000 },
    ]);
    expect(env('PORT')).toBe('8000');
    expect(env('MANAGEMENT_PORT')).toBe('9000');
  });

  it.each([
    ['readinessProbe', '/ready'],
    ['livenessProbe', '/health'],
    ['startupProbe', '/health'],
  ])('%s asks %s on the http port', (probe, path) => {
    expect(container[probe].httpGet).toEqual({ path, port: 'http' });
  });

  it('gives the startup probe a minute before liveness takes over', () => {
    const p = container.startupProbe;
    expect(p.periodSeconds * p.failureThreshold).toBeGreaterThanOrEqual(60);
  });

  it('never reads upstream health for readiness (one dead backend must not empty the Service)', () => {
    const paths = ['readinessProbe', 'livenessProbe', 'startupProbe'].map((p) => container[p].httpGet.path);
    expect(paths).not.toContain('/health/services');
  });

  it('terminationGracePeriodSeconds covers preStop sleep + SHUTDOWN_DELAY + drainTimeout + 5 s', () => {
    const preStop: string[] = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    const shutdownDelayMs = parseDuration(env('SHUTDOWN_DELAY')!)!;
    const drainMs = parseDuration((yaml.load(routesConfigMap.data!['routes.yaml']) as { gateway: { drainTimeout: string } }).gateway.drainTimeout)!;
    expect(preStopMs).toBeGreaterThan(0);
    expect(shutdownDelayMs).toBeGreaterThan(0);
    expect(drainMs).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStopMs + shutdownDelayMs + drainMs + 5000);
  });

  it('rolls out with maxUnavailable 0: a new pod is ready before an old one goes', () => {
    expect(gateway.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    expect(gateway.spec.strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
  });

  it("runs as the image's non-root user (numeric: kubelet cannot check a user name), read-only root filesystem, no privileges", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8')).toMatch(/^USER node$/m);
  });

  it("mounts the routes ConfigMap as a folder (no subPath: a subPath mount never sees updates) at ROUTES_FILE's folder", () => {
    const file = env('ROUTES_FILE')!;
    const volume = pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap?.name === routesConfigMap.metadata.name);
    expect(volume).toBeDefined();
    expect(volume.configMap.items).toBeUndefined();
    const mounts = container.volumeMounts.filter((m: { name: string }) => m.name === volume.name);
    expect(mounts).toEqual([{ name: volume.name, mountPath: dirname(file), readOnly: true }]);
    expect(Object.keys(routesConfigMap.data!)).toEqual([basename(file)]);
  });

  it('uses the shared Redis for rate limits', () => {
    expect(env('RATE_LIMITING__ENABLED')).toBe('true');
    const url = new URL(env('RATE_LIMITING__REDIS_URL')!);
    const redis = find('Service', url.hostname);
    expect(redis.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(url.port));
    const redisPods = find('Deployment', 'tracseq-gateway-redis');
    expect(selects(redis.spec.selector, redisPods.spec.template.metadata.labels)).toBe(true);
    expect(redisPods.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('takes the JWT secret from the Secret; the image is the one kustomization.yaml sets, tagged with the package version', () => {
    const ref = container.env.find((e: { name: string }) => e.name === 'AUTHENTICATION__JWT_SECRET_KEY').valueFrom.secretKeyRef;
    expect(Object.keys(find('Secret', ref.name).stringData!)).toContain(ref.key);
    const image = readKustomization(BASE).images![0];
    expect(image.name).toBe(container.image);
    expect(image.newTag).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });
});

describe('the routes ConfigMap and the Secret', () => {
  it("holds the repository's routes.yaml, unchanged", () => {
    expect(routesConfigMap.data!['routes.yaml']).toBe(shippedRoutes);
  });

  // The Deployment's own environment, with the Secret's values: the gateway refuses the placeholder.
  const podEnv = (secret: string) => ({
    ...Object.fromEntries(container.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value])),
    AUTHENTICATION__JWT_SECRET_KEY: secret,
  });

  it('ships a placeholder secret that the gateway refuses to start with (ENVIRONMENT=production)', () => {
    const placeholder = find('Secret', 'tracseq-gateway').stringData!['jwt-secret-key'];
    const check = checkConfigText('routes.yaml', routesConfigMap.data!['routes.yaml'], podEnv(placeholder));
    expect(check.config).toBeUndefined();
    expect(check.problems.map((p) => p.message)).toContainEqual(expect.stringContaining('is the placeholder'));
  });

  it("is a valid config with the Deployment's environment and a real secret", () => {
    const check = checkConfigText('routes.yaml', routesConfigMap.data!['routes.yaml'], podEnv('a-real-secret-of-the-operator-0123456789'));
    expect(check.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(check.config?.gateway.managementPort).toBe(9000);
    expect(check.config?.rateLimiting).toMatchObject({ store: 'redis' });
  });
});

describe('Services, autoscaling, disruptions, monitoring', () => {
  const publicService = find('Service', 'tracseq-gateway');
  const management = find('Service', 'tracseq-gateway-management');

  it("the public Service carries port 8000 only, to the pods' http port", () => {
    expect(publicService.spec.ports).toEqual([{ name: 'http', port: 8000, targetPort: 'http' }]);
    expect(selects(publicService.spec.selector, podLabels)).toBe(true);
  });

  it('the management port has its own headless Service, for Prometheus inside the cluster', () => {
    expect(management.spec).toMatchObject({ type: 'ClusterIP', clusterIP: 'None' });
    expect(management.spec.ports).toEqual([{ name: 'management', port: 9000, targetPort: 'management' }]);
    expect(selects(management.spec.selector, podLabels)).toBe(true);
  });

  it('the HorizontalPodAutoscaler scales the Deployment on CPU, never below 2', () => {
    const hpa = find('HorizontalPodAutoscaler', 'tracseq-gateway');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: gateway.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics).toEqual([expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) })]);
  });

  it('the PodDisruptionBudget lets one gateway pod go at a time', () => {
    const pdb = find('PodDisruptionBudget', 'tracseq-gateway');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
  });

  it('the ServiceMonitor scrapes /metrics on the management port, as docker/prometheus.yml does in Compose', () => {
    const monitor = assemble(MONITORING).find((m) => m.kind === 'ServiceMonitor')!;
    expect(selects(monitor.spec.selector.matchLabels, management.metadata.labels!)).toBe(true);
    expect(selects(monitor.spec.selector.matchLabels, publicService.metadata.labels!)).toBe(false);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'management', path: '/metrics' })]);
    const prometheus = yaml.load(readFileSync(join(ROOT, 'docker', 'prometheus.yml'), 'utf8')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
    expect(prometheus.scrape_configs[0].metrics_path).toBe('/metrics');
    expect(prometheus.scrape_configs[0].static_configs[0].targets[0].endsWith(`:${env('MANAGEMENT_PORT')}`)).toBe(true);
  });
});
