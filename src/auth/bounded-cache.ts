/**
 * A map with a size bound and a per-entry expiry, for the auth caches. When full, the oldest
 * entry goes first: a Map keeps insertion order, so that needs no bookkeeping on reads, which
 * keeps a cache hit (the common case, once per request) to one lookup and one clock read.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, unless it is absent or its time is up (then it is dropped). */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Remembers `value` until `expiresAt` (ms since the epoch); a time already past stores nothing. */
  set(key: string, value: V, expiresAt: number): void {
    if (!(expiresAt > this.now())) return;
    // Re-inserting moves the key to the young end, so a refreshed entry is not the next evicted.
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
