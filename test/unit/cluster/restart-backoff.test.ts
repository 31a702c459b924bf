import { RestartBackoff } from '../../../src/cluster/restart-backoff';

describe('RestartBackoff', () => {
  it('restarts at once the first time, then doubles from 1 s up to the cap while the worker keeps dying young', () => {
    const backoff = new RestartBackoff(30_000, 8_000);
    expect([100, 100, 100, 100, 100, 100].map((lived) => backoff.next(lived))).toEqual([0, 1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('a worker that lived past the stable time starts the count again', () => {
    const backoff = new RestartBackoff(30_000, 30_000);
    backoff.next(10);
    backoff.next(10);
    expect(backoff.next(10)).toBe(2_000);
    expect(backoff.next(60_000)).toBe(0);
    expect(backoff.next(10)).toBe(1_000);
  });
});
