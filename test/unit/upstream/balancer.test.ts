import { createBalancer, type Balanceable } from '../../../src/upstream/balancer';

/** The algorithms on plain instances: no sockets, no gateway. */
class Instance implements Balanceable {
  inFlight = 0;
  up = true;
  constructor(
    readonly name: string,
    readonly weight = 1,
  ) {}
  available(): boolean {
    return this.up;
  }
}

const picks = (pick: () => Instance | undefined, n: number) => Array.from({ length: n }, () => pick()?.name ?? '-').join('');

describe('round robin', () => {
  it('takes each available instance in turn and skips one that is down', () => {
    const [a, b, c] = [new Instance('a'), new Instance('b'), new Instance('c')];
    const balancer = createBalancer('round_robin', [a, b, c]);
    expect(picks(() => balancer.pick(), 6)).toBe('abcabc');
    b.up = false;
    expect(picks(() => balancer.pick(), 4)).toBe('acac');
  });

  it('skips the excluded instance (a retry goes elsewhere) and answers undefined when none is left', () => {
    const [a, b] = [new Instance('a'), new Instance('b')];
    const balancer = createBalancer('round_robin', [a, b]);
    expect(balancer.pick(a)).toBe(b);
    expect(balancer.pick(a)).toBe(b);
    b.up = false;
    expect(balancer.pick(a)).toBeUndefined();
  });
});

describe('smooth weighted round robin', () => {
  it('spreads weights 3:1 as a a b a, never a run of the heavy instance longer than its share', () => {
    const balancer = createBalancer('weighted_round_robin', [new Instance('a', 3), new Instance('b', 1)]);
    expect(picks(() => balancer.pick(), 8)).toBe('aabaaaba');
  });

  it('gives 5:2:1 exactly over 100 cycles of 8', () => {
    const balancer = createBalancer('weighted_round_robin', [new Instance('a', 5), new Instance('b', 2), new Instance('c', 1)]);
    const seen = picks(() => balancer.pick(), 800);
    const count = (x: string) => seen.split('').filter((s) => s === x).length;
    expect([count('a'), count('b'), count('c')]).toEqual([500, 200, 100]);
  });
});

describe('least connections', () => {
  it('picks the instance with the fewest requests in flight', () => {
    const [a, b, c] = [new Instance('a'), new Instance('b'), new Instance('c')];
    a.inFlight = 4;
    b.inFlight = 1;
    c.inFlight = 2;
    const balancer = createBalancer('least_connections', [a, b, c]);
    expect(balancer.pick()).toBe(b);
    b.inFlight = 5;
    expect(balancer.pick()).toBe(c);
  });

  it('shares ties round robin', () => {
    const balancer = createBalancer('least_connections', [new Instance('a'), new Instance('b'), new Instance('c')]);
    expect(picks(() => balancer.pick(), 6)).toBe('abcabc');
  });
});

describe('load balancing off', () => {
  it('always takes the first available instance', () => {
    const [a, b] = [new Instance('a'), new Instance('b')];
    const balancer = createBalancer('round_robin', [a, b], false);
    expect(picks(() => balancer.pick(), 3)).toBe('aaa');
    a.up = false;
    expect(balancer.pick()).toBe(b);
  });
});
