import type { ServiceConfig } from '../config/types';
import type { Logger } from '../observability/logger';
import { InstanceSource, listedInstances } from '../upstream/instance-source';
import { DnsInstanceSource } from './dns-source';

export interface SourceDeps {
  logger: Logger;
  /** gateway.dnsServers */
  dnsServers: readonly string[];
  /** A failed discovery lookup of `service`, by error code. */
  discoveryFailed?: (service: string, code: string) => void;
}

/** Where the instances of one service come from: its `discovery` block, else its `instances`. */
export function instanceSourceFor(name: string, config: ServiceConfig, deps: SourceDeps): InstanceSource {
  if (config.discovery.dns === '') return listedInstances(config.instances);
  return new DnsInstanceSource(name, config.discovery, {
    logger: deps.logger,
    servers: deps.dnsServers,
    failed: (code) => deps.discoveryFailed?.(name, code),
  });
}
