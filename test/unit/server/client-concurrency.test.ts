import { ClientConcurrency } from '../../../src/server/client-concurrency';

describe('requests in flight per client address', () => {
  it('admits up to the limit per address, each address on its own', () => {
    const counts = new ClientConcurrency();
    expect([1, 2, 3, 4].map(() => counts.tryAcquire('203.0.113.7', 3))).toEqual([true, true, true, false]);
    expect(counts.tryAcquire('198.51.100.2', 3)).toBe(true);
    counts.release('203.0.113.7');
    expect(counts.tryAcquire('203.0.113.7', 3)).toBe(true);
    expect(counts.of('203.0.113.7')).toBe(3);
  });

  it('counts without limiting when the limit is 0', () => {
    const counts = new ClientConcurrency();
    for (let i = 0; i < 5000; i++) expect(counts.tryAcquire('203.0.113.7', 0)).toBe(true);
    expect(counts.of('203.0.113.7')).toBe(5000);
  });

  it('forgets an address with its last request, so the map never outgrows the requests in flight', () => {
    const counts = new ClientConcurrency();
    for (let i = 0; i < 10_000; i++) {
      const client = `10.0.${i >> 8}.${i & 255}`;
      counts.tryAcquire(client, 2);
      counts.tryAcquire(client, 2);
      counts.release(client);
      counts.release(client);
    }
    expect(counts.clients).toBe(0);
    counts.release('192.0.2.1'); // a release without its acquire changes nothing
    expect(counts.clients).toBe(0);
  });
});
