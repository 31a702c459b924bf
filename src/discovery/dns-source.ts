import { discoveryRecordType } from '../config/discovery-type';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DiscoveryConfig } from '../config/types';
import { parseDuration } from '../config/units';
import type { Logger } from '../observability/logger';
import { DiscoveryView, InstanceSource, InstanceSpec, sameInstances } from '../upstream/instance-source';

/** A lookup that answered: the addresses and how long the answer may be kept (undefined: not said). */
interface Answer {
  instances: InstanceSpec[];
  ttlMs: number | undefined;
}

/** Codes of node's resolver for an answer that exists and holds no record of the type: no instance. */
const EMPTY_ANSWER = new Set(['ENODATA']);

/** How one lookup may vary the next refresh: ±10 %, so a fleet of gateways does not ask in step. */
const JITTER = 0.1;

export interface DnsSourceDeps {
  logger: Logger;
  /** gateway.dnsServers: `host` or `host:port`; empty: the system's resolvers. */
  servers: readonly string[];
  /** Reports a failed lookup (counted in gateway_discovery_errors_total). */
  failed?: (code: string) => void;
}

/** The `_service._proto.` labels of an SRV name dropped: the name the service's virtual host answers to. */
function hostOfSrvName(name: string): string {
  return name.replace(/^(_[^.]+\.){1,2}/, '');
}

function urlOf(scheme: string, address: string, port: number): string {
  return `${scheme}://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}

/**
 * Instances from DNS, looked up in the background, never on the request path:
 * - A or AAAA: every address of the name, each an instance on `port` (a Compose service scaled
 *   with --scale, a Kubernetes headless Service).
 * - SRV: the targets of the lowest priority, each with its port and weight (for
 *   weighted_round_robin), resolved to addresses.
 * The next lookup comes after the answer's TTL, bounded by `minRefresh` (a TTL of 0 does not
 * hammer the server) and `refresh` (a TTL of 600 s does not keep a changed set for ten minutes),
 * with jitter. A lookup that fails (timeout, SERVFAIL, NXDOMAIN, no server) keeps the last good
 * set and is retried sooner; only an answer changes the set, and an answer with no records means
 * no instance.
 */
export class DnsInstanceSource implements InstanceSource {
  private instances: readonly InstanceSpec[] = [];
  private readonly listeners: ((instances: readonly InstanceSpec[]) => void)[] = [];
  private readonly resolver: Resolver;
  private readonly refreshMs: number;
  private readonly minRefreshMs: number;
  private readonly type: 'A' | 'AAAA' | 'SRV';
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;
  private lastErrorAt: number | undefined;
  private nextAt: number | undefined;
  readonly hostHeader: string;
  resolved = false;

  constructor(
    private readonly service: string,
    private readonly config: DiscoveryConfig,
    private readonly deps: DnsSourceDeps,
  ) {
    const timeoutMs = parseDuration(config.timeout) ?? 2000;
    this.resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    if (deps.servers.length > 0) this.resolver.setServers([...deps.servers]);
    this.refreshMs = parseDuration(config.refresh) ?? 10_000;
    this.minRefreshMs = Math.min(parseDuration(config.minRefresh) ?? 1000, this.refreshMs);
    this.type = discoveryRecordType(config.type, config.dns);
    const defaultPort = config.scheme === 'https' ? 443 : 80;
    this.hostHeader = this.type === 'SRV' ? hostOfSrvName(config.dns) : config.port === defaultPort ? config.dns : `${config.dns}:${config.port}`;
  }

  current(): readonly InstanceSpec[] {
    return this.instances;
  }

  onChange(listener: (instances: readonly InstanceSpec[]) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolver.cancel();
  }

  view(): DiscoveryView {
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    return {
      source: 'dns',
      name: this.config.dns,
      type: this.type,
      lastSuccess: iso(this.lastSuccessAt),
      lastError: this.lastError ?? null,
      lastErrorAt: iso(this.lastErrorAt),
      nextRefresh: iso(this.nextAt),
    };
  }

  /** One lookup, then the next one scheduled; never throws. */
  private async refresh(): Promise<void> {
    let delayMs: number;
    try {
      const answer = await this.lookup();
      if (!this.running) return;
      this.succeeded(answer.instances);
      delayMs = Math.min(Math.max(answer.ttlMs ?? this.refreshMs, this.minRefreshMs), this.refreshMs);
    } catch (err) {
      if (!this.running) return;
      const code = String((err as { code?: unknown }).code ?? (err as Error).message ?? 'error');
      this.failures++;
      this.lastError = code;
      this.lastErrorAt = Date.now();
      this.deps.failed?.(code);
      // The last good set keeps serving; the lookup is retried sooner than a refresh, backing off.
      delayMs = Math.min(this.minRefreshMs * 2 ** Math.min(this.failures - 1, 10), this.refreshMs);
      this.deps.logger.warn('service discovery lookup failed; the last instances found keep serving', {
        service: this.service,
        name: this.config.dns,
        type: this.type,
        error: code,
        instances: this.instances.length,
        retryInMs: delayMs,
      });
    }
    delayMs = Math.round(delayMs * (1 - JITTER + 2 * JITTER * Math.random()));
    this.nextAt = Date.now() + delayMs;
    this.timer = setTimeout(() => void this.refresh(), delayMs);
    this.timer.unref();
  }

  private succeeded(found: InstanceSpec[]): void {
    this.failures = 0;
    this.lastSuccessAt = Date.now();
    const first = !this.resolved;
    this.resolved = true;
    if (!first && sameInstances(this.instances, found)) return;
    const before = new Set(this.instances.map((i) => i.url));
    const after = new Set(found.map((i) => i.url));
    this.deps.logger.info('service instances changed', {
      service: this.service,
      name: this.config.dns,
      added: found.filter((i) => !before.has(i.url)).map((i) => i.url),
      removed: this.instances.filter((i) => !after.has(i.url)).map((i) => i.url),
      instances: found.length,
    });
    this.instances = found;
    for (const listener of this.listeners) listener(found);
  }

  private async lookup(): Promise<Answer> {
    if (this.type === 'SRV') return this.lookupSrv();
    return this.addresses(this.config.dns, this.type, this.config.port, 1);
  }

  /** The name's A or AAAA records as instances on `port`; an empty answer is no instance. */
  private async addresses(name: string, type: 'A' | 'AAAA', port: number, weight: number): Promise<Answer> {
    const { scheme } = this.config;
    if (isIP(name) !== 0) return { instances: [{ url: urlOf(scheme, name, port), weight }], ttlMs: undefined };
    try {
      const records = type === 'A' ? await this.resolver.resolve4(name, { ttl: true }) : await this.resolver.resolve6(name, { ttl: true });
      const urls = [...new Set(records.map((r) => urlOf(scheme, r.address, port)))].sort();
      const ttl = records.length === 0 ? undefined : Math.min(...records.map((r) => r.ttl)) * 1000;
      return { instances: urls.map((url) => ({ url, weight })), ttlMs: ttl };
    } catch (err) {
      if (EMPTY_ANSWER.has(String((err as { code?: unknown }).code))) return { instances: [], ttlMs: undefined };
      throw err;
    }
  }

  /**
   * The SRV targets of the lowest priority (the others are backups, RFC 2782), each resolved to
   * its addresses. Node's resolver gives no TTL for SRV records: the targets' address TTLs and
   * `refresh` bound the next lookup. One target that fails to resolve fails the whole lookup, so a
   * partial answer never drops instances that are still there.
   */
  private async lookupSrv(): Promise<Answer> {
    let records;
    try {
      records = await this.resolver.resolveSrv(this.config.dns);
    } catch (err) {
      if (EMPTY_ANSWER.has(String((err as { code?: unknown }).code))) return { instances: [], ttlMs: undefined };
      throw err;
    }
    if (records.length === 0) return { instances: [], ttlMs: undefined };
    const lowest = Math.min(...records.map((r) => r.priority));
    const serving = records.filter((r) => r.priority === lowest);
    const answers = await Promise.all(serving.map((r) => this.addresses(r.name, 'A', r.port, Math.max(r.weight, 1))));
    const byUrl = new Map<string, InstanceSpec>();
    for (const a of answers) for (const i of a.instances) byUrl.set(i.url, i);
    const ttls = answers.map((a) => a.ttlMs).filter((t): t is number => t !== undefined);
    return { instances: [...byUrl.values()].sort((a, b) => a.url.localeCompare(b.url)), ttlMs: ttls.length ? Math.min(...ttls) : undefined };
  }
}
