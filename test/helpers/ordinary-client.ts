import { rawRequest } from './http';

export interface OrdinaryTally {
  /** Answers by status ("error" when no HTTP answer came at all). */
  byStatus: Record<string, number>;
  sent: number;
}

export interface OrdinaryClient {
  /** Stops after the request in flight and returns what every request got. */
  stop(): Promise<OrdinaryTally>;
}

/**
 * A well-behaved client calling the gateway one request at a time, from its own source address (so
 * a per-address guard against an attacker on 127.0.0.1 never counts it), while an attack runs.
 * Bounded: at most `maxRequests`, and each request gives up after 5 s.
 */
export function startOrdinaryClient(url: string, options: { localAddress?: string; intervalMs?: number; maxRequests?: number } = {}): OrdinaryClient {
  const { localAddress = '127.0.0.2', intervalMs = 100, maxRequests = 2000 } = options;
  const tally: OrdinaryTally = { byStatus: {}, sent: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped && tally.sent < maxRequests) {
      tally.sent++;
      const status = await rawRequest(url, { localAddress, signal: AbortSignal.timeout(5000) }).then(
        (r) => String(r.status),
        () => 'error',
      );
      tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return tally;
    },
  };
}
