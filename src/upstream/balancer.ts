import type { Algorithm } from '../config/types';

/** What a balancer needs to know of an instance. */
export interface Balanceable {
  readonly weight: number;
  inFlight: number;
  /** False while health checks or the circuit breaker keep the instance out of rotation. */
  available(): boolean;
}

export interface Balancer<T extends Balanceable> {
  /** The next instance to use, skipping `exclude` (an instance already tried); undefined when none is available. */
  pick(exclude?: T): T | undefined;
}

function roundRobin<T extends Balanceable>(instances: readonly T[]): Balancer<T> {
  let next = 0;
  return {
    pick(exclude) {
      for (let tried = 0; tried < instances.length; tried++) {
        const candidate = instances[next];
        next = (next + 1) % instances.length;
        if (candidate !== exclude && candidate.available()) return candidate;
      }
      return undefined;
    },
  };
}

/**
 * Smooth weighted round robin (as nginx does it): weights 3:1 give a a b a, not a a a b, so a heavy
 * instance never receives a long run of consecutive requests.
 */
function weightedRoundRobin<T extends Balanceable>(instances: readonly T[]): Balancer<T> {
  const current = instances.map(() => 0);
  return {
    pick(exclude) {
      let total = 0;
      let best = -1;
      for (let i = 0; i < instances.length; i++) {
        const inst = instances[i];
        if (inst === exclude || !inst.available()) continue;
        current[i] += inst.weight;
        total += inst.weight;
        if (best === -1 || current[i] > current[best]) best = i;
      }
      if (best === -1) return undefined;
      current[best] -= total;
      return instances[best];
    },
  };
}

/** Fewest requests in flight now; ties go round robin so equal instances share the load. */
function leastConnections<T extends Balanceable>(instances: readonly T[]): Balancer<T> {
  let offset = 0;
  return {
    pick(exclude) {
      let best: T | undefined;
      const n = instances.length;
      if (n === 0) return undefined; // a discovered service with no instance now
      for (let k = 0; k < n; k++) {
        const inst = instances[(offset + k) % n];
        if (inst === exclude || !inst.available()) continue;
        if (best === undefined || inst.inFlight < best.inFlight) best = inst;
      }
      offset = (offset + 1) % n;
      return best;
    },
  };
}

/** With load balancing switched off, everything goes to the first available instance. */
function firstAvailable<T extends Balanceable>(instances: readonly T[]): Balancer<T> {
  return { pick: (exclude) => instances.find((i) => i !== exclude && i.available()) };
}

export function createBalancer<T extends Balanceable>(algorithm: Algorithm, instances: readonly T[], enabled = true): Balancer<T> {
  if (!enabled) return firstAvailable(instances);
  switch (algorithm) {
    case 'weighted_round_robin':
      return weightedRoundRobin(instances);
    case 'least_connections':
      return leastConnections(instances);
    default:
      return roundRobin(instances);
  }
}
