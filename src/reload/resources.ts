/**
 * Long-lived things a compiled gateway owns (upstream services with their pools, health checks and
 * circuit breakers; rate-limit stores; …), carried from one compiled config to the next when their
 * settings did not change, so a reload keeps their state, and disposed exactly once otherwise.
 */
interface Held {
  fingerprint: string;
  value: unknown;
  dispose: () => Promise<void> | void;
}

export class Resources {
  private readonly held = new Map<string, Held>();
  private readonly carried = new Set<string>();

  /** @param previous the resources of the gateway being replaced, if any */
  constructor(private readonly previous?: Resources) {}

  /**
   * The resource under `key`: the previous gateway's one when its `fingerprint` (a serialisation of
   * the settings it was made from) is unchanged, else a new one from `create`.
   */
  reuse<T>(key: string, fingerprint: string, create: () => T, dispose: (value: T) => Promise<void> | void): T {
    const existing = this.held.get(key);
    if (existing) return existing.value as T;
    const old = this.previous?.held.get(key);
    if (old && old.fingerprint === fingerprint) {
      this.previous!.carried.add(key);
      this.held.set(key, old);
      return old.value as T;
    }
    const value = create();
    this.held.set(key, { fingerprint, value, dispose: () => dispose(value) });
    return value;
  }

  /** After a swap: disposes what the next gateway did not take over. */
  async retire(): Promise<void> {
    const leaving = [...this.held].filter(([key]) => !this.carried.has(key));
    this.held.clear();
    await Promise.all(
      leaving.map(([, h]) =>
        Promise.resolve()
          .then(h.dispose)
          .catch(() => undefined),
      ),
    );
  }

  /** A compile that failed: disposes what it created, gives back what it had taken over. */
  async abandon(): Promise<void> {
    const created = [...this.held].filter(([key]) => this.previous?.held.get(key) !== this.held.get(key));
    for (const key of this.held.keys()) this.previous?.carried.delete(key);
    this.held.clear();
    await Promise.all(
      created.map(([, h]) =>
        Promise.resolve()
          .then(h.dispose)
          .catch(() => undefined),
      ),
    );
  }

  /** Shutdown: disposes everything. */
  async disposeAll(): Promise<void> {
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(
      all.map((h) =>
        Promise.resolve()
          .then(h.dispose)
          .catch(() => undefined),
      ),
    );
  }
}
