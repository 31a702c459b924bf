import type { GatewayConfig } from '../config/types';
import type { Logger } from '../observability/logger';
import type { HealthFindings } from '../server/gateway-server';
import { UpstreamService } from '../upstream/service';
import { instanceSourceFor } from '../discovery/source-for';

/**
 * The active health checks of a cluster, run once, in the primary: N workers probing each on its
 * own would multiply the probes every instance receives by N. A service whose settings did not
 * change across a reload keeps its checks and their state, as a single process does.
 */
export class ClusterHealthMonitor {
  private readonly services = new Map<string, { fingerprint: string; service: UpstreamService }>();

  constructor(private readonly logger: Logger) {}

  apply(config: GatewayConfig): void {
    const keep = new Set<string>();
    for (const [name, svc] of Object.entries(config.services)) {
      const fingerprint = JSON.stringify([svc, config.loadBalancing.enabled, config.gateway.dnsServers]);
      keep.add(name);
      const held = this.services.get(name);
      if (held?.fingerprint === fingerprint) continue;
      if (held) void held.service.close();
      // A discovered service is looked up here too, so that the instances the workers find are checked.
      const source = instanceSourceFor(name, svc, { logger: this.logger, dnsServers: config.gateway.dnsServers });
      const service = new UpstreamService(name, svc, config.loadBalancing.enabled, { logger: this.logger, now: Date.now }, source);
      service.startHealthChecks();
      this.services.set(name, { fingerprint, service });
    }
    for (const [name, held] of this.services) {
      if (keep.has(name)) continue;
      void held.service.close();
      this.services.delete(name);
    }
  }

  findings(): HealthFindings {
    const out: HealthFindings = {};
    for (const [name, { service }] of this.services) {
      const byUrl: HealthFindings[string] = {};
      for (const instance of service.instances) byUrl[instance.url] = instance.health.snapshot();
      out[name] = byUrl;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.services.values()].map(({ service }) => service.close()));
    this.services.clear();
  }
}
