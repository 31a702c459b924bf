import { BodyMemoryReleaser } from '../../../src/memory/body-memory-releaser';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BodyMemoryReleaser', () => {
  it('collects once each time `every` bytes have been relayed, after the current callbacks', async () => {
    let collections = 0;
    const releaser = new BodyMemoryReleaser(1000, () => collections++);
    releaser.relayed(400);
    releaser.relayed(400);
    await nextTurn();
    expect(collections).toBe(0);
    releaser.relayed(400); // 1200 ≥ 1000
    expect(collections).toBe(0); // not while the chunk is still in hand
    await nextTurn();
    expect(collections).toBe(1);
    releaser.relayed(999); // the count starts again after a collection
    await nextTurn();
    expect(collections).toBe(1);
    releaser.relayed(1);
    await nextTurn();
    expect(collections).toBe(2);
  });

  it('runs one collection for many chunks relayed in the same turn', async () => {
    let collections = 0;
    const releaser = new BodyMemoryReleaser(1000, () => collections++);
    for (let i = 0; i < 50; i++) releaser.relayed(1000);
    await nextTurn();
    expect(collections).toBe(1);
  });
});
