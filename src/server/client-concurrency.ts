/**
 * Requests in flight per client address (nginx's `limit_conn`), so that one address cannot take
 * all of `gateway.maxConcurrentRequests` from everybody else. An address is in the map only while
 * it has a request in flight: the entry goes with its last request, so the map never outgrows the
 * requests in flight. Costs one map lookup and one write per request, and the same at its end.
 */
export class ClientConcurrency {
  private readonly inFlight = new Map<string, number>();

  /** Counts a request of `client` unless it already has `limit` in flight (0: no limit). */
  tryAcquire(client: string, limit: number): boolean {
    const current = this.inFlight.get(client) ?? 0;
    if (limit > 0 && current >= limit) return false;
    this.inFlight.set(client, current + 1);
    return true;
  }

  /** One request of `client` counted by `tryAcquire` has ended. */
  release(client: string): void {
    const current = this.inFlight.get(client);
    if (current === undefined) return;
    if (current <= 1) this.inFlight.delete(client);
    else this.inFlight.set(client, current - 1);
  }

  /** Requests of `client` in flight. */
  of(client: string): number {
    return this.inFlight.get(client) ?? 0;
  }

  /** Addresses with a request in flight. */
  get clients(): number {
    return this.inFlight.size;
  }
}
