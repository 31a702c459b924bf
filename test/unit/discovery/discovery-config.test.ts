import { checkConfigText } from '../../../src/config';
import { explain } from '../../../src/cli/explain';
import { configFrom } from '../../helpers/gateway';

const DISCOVERED = `
version: 1
services:
  samples:
    discovery: { dns: samples.lab.internal, port: 8081 }
  storage:
    discovery: { dns: _http._tcp.storage.lab.internal }
  templates:
    instances: ["http://templates:8083"]
routes:
  - { name: samples, path: /samples, service: samples, rewrite: /api/v1 }
  - { name: storage, path: /storage, service: storage }
  - { name: templates, path: /templates, service: templates }
`;

describe('the discovery block', () => {
  it('takes the schema defaults: A records over http, refreshed every 10 s at most and 1 s at least', () => {
    const config = configFrom(DISCOVERED);
    expect(config.services.samples.discovery).toEqual({ dns: 'samples.lab.internal', type: 'auto', port: 8081, scheme: 'http', refresh: '10s', minRefresh: '1s', timeout: '2s' });
    expect(config.services.samples.instances).toEqual([]);
    expect(config.services.templates.discovery.dns).toBe('');
    expect(config.gateway.dnsServers).toEqual([]);
  });

  it.each([
    ['SERVICES__SAMPLES__HOST replaces the name looked up', { SERVICES__SAMPLES__HOST: 'samples.other.internal' }, 'samples', { dns: 'samples.other.internal', port: 8081 }],
    ['SERVICES__SAMPLES__PORT replaces the port of the addresses', { SERVICES__SAMPLES__PORT: '9081' }, 'samples', { dns: 'samples.lab.internal', port: 9081 }],
  ])('%s', (_name, env, service, expected) => {
    const result = checkConfigText('routes.yaml', DISCOVERED, env);
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.config?.services[service].discovery).toMatchObject(expected);
  });

  it('SERVICES__<NAME>__URLS turns a discovered service into a fixed list', () => {
    const result = checkConfigText('routes.yaml', DISCOVERED, { SERVICES__SAMPLES__URLS: 'http://10.0.0.5:8081' });
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.config?.services.samples.instances).toEqual([{ url: 'http://10.0.0.5:8081', weight: 1 }]);
    expect(result.config?.services.samples.discovery.dns).toBe('');
  });

  it('SERVICES__<NAME>__DNS finds a listed service in DNS instead, on the port and scheme of its first instance', () => {
    const result = checkConfigText('routes.yaml', DISCOVERED, { SERVICES__TEMPLATES__DNS: 'template-service' });
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.config?.services.templates.instances).toEqual([]);
    expect(result.config?.services.templates.discovery).toMatchObject({ dns: 'template-service', port: 8083, scheme: 'http' });
  });

  it('DNS_SERVERS sets the resolvers discovery asks', () => {
    const result = checkConfigText('routes.yaml', DISCOVERED, { DNS_SERVERS: '10.0.0.10, 10.0.0.11:5353' });
    expect(result.config?.gateway.dnsServers).toEqual(['10.0.0.10', '10.0.0.11:5353']);
  });

  it('explain says the instances are discovered, and by which name and records', async () => {
    const config = configFrom(DISCOVERED);
    const samples = await explain(config, 'GET', '/samples/list');
    expect(samples.text).toContain('upstream candidates: discovered in DNS, A records of samples.lab.internal (http, port 8081, looked up every 10s at most), path /api/v1/list');
    const storage = await explain(config, 'GET', '/storage/x');
    expect(storage.text).toContain('SRV records of _http._tcp.storage.lab.internal (http, the ports of its SRV records');
    const templates = await explain(config, 'GET', '/templates/x');
    expect(templates.text).toContain('http://templates:8083/templates/x (weight 1)');
  });
});
