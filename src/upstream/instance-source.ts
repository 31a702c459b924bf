/** One instance as a source knows it: where it is and how much traffic it takes. */
export interface InstanceSpec {
  /** `scheme://host:port`; the identity of the instance: the same URL is the same instance. */
  readonly url: string;
  readonly weight: number;
}

/** What a source that discovers its instances says about its last lookups (null for a fixed list). */
export interface DiscoveryView {
  source: 'dns';
  name: string;
  type: string;
  lastSuccess: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  nextRefresh: string | null;
}

/**
 * Where a service's instances come from. The service asks `current()` once when it is built and
 * follows `onChange` from then on; a source never changes the set on the request path, only in
 * the background. A fixed list from routes.yaml is one source, DNS another.
 */
export interface InstanceSource {
  current(): readonly InstanceSpec[];
  /** Called with the whole new set each time it differs from the last one. */
  onChange(listener: (instances: readonly InstanceSpec[]) => void): void;
  /** Starts background lookups (a fixed list has none). */
  start(): void;
  stop(): void;
  /**
   * The `Host` header the service's requests carry, or undefined for the instance's own host: a
   * discovered instance is an address, and virtual hosts behind the name must keep working.
   */
  readonly hostHeader: string | undefined;
  /** Whether the source has ever produced a set (a name that does not resolve yet has not). */
  readonly resolved: boolean;
  view(): DiscoveryView | null;
}

/** The instances written in routes.yaml: known at once, never changing. */
export class StaticInstanceSource implements InstanceSource {
  readonly hostHeader = undefined;
  readonly resolved = true;

  constructor(private readonly instances: readonly InstanceSpec[]) {}

  current(): readonly InstanceSpec[] {
    return this.instances;
  }

  onChange(): void {}
  start(): void {}
  stop(): void {}

  view(): null {
    return null;
  }
}

/** The fixed source of a service's listed `instances`. */
export function listedInstances(instances: readonly { url: string; weight: number }[]): StaticInstanceSource {
  return new StaticInstanceSource(instances.map((i) => ({ url: i.url, weight: i.weight })));
}

/** Whether two sets hold the same instances with the same weights, in any order. */
export function sameInstances(a: readonly InstanceSpec[], b: readonly InstanceSpec[]): boolean {
  if (a.length !== b.length) return false;
  const weights = new Map(a.map((i) => [i.url, i.weight]));
  return b.every((i) => weights.get(i.url) === i.weight);
}
