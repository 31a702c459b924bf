import { BoundedCache } from '../../../src/auth/bounded-cache';

describe('BoundedCache', () => {
  let now = 1_000;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('returns a value until its expiry, then forgets it', () => {
    const cache = new BoundedCache<string>(10, clock);
    cache.set('a', 'A', 1_500);
    expect(cache.get('a')).toBe('A');
    now = 1_499;
    expect(cache.get('a')).toBe('A');
    now = 1_500;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it.each([
    ['already past', 900],
    ['exactly now', 1_000],
    ['not a number', Number.NaN],
  ])('stores nothing when the expiry is %s', (_name, expiresAt) => {
    const cache = new BoundedCache<string>(10, clock);
    cache.set('a', 'A', expiresAt);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest first', () => {
    const cache = new BoundedCache<number>(3, clock);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, k.charCodeAt(0), 5_000);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((k) => cache.get(k))).toEqual([98, 99, 100]);
  });

  it('counts a re-set entry as new, so it is not the next one evicted', () => {
    const cache = new BoundedCache<string>(2, clock);
    cache.set('a', 'A', 5_000);
    cache.set('b', 'B', 5_000);
    cache.set('a', 'A2', 5_000);
    cache.set('c', 'C', 5_000);
    expect(cache.get('a')).toBe('A2');
    expect(cache.get('b')).toBeUndefined();
  });
});
