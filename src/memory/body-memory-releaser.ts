/**
 * Gives the memory of relayed body chunks back soon after they are written.
 *
 * Node copies each chunk of a body it reads off a socket into a buffer of its own, outside V8's
 * heap. Those buffers are freed only when a collection finds the small objects holding them dead,
 * and V8 schedules one for outside-heap memory alone only after some 30 MiB of it have piled up:
 * a 100 MB upload or download grew the process by ~30 MiB, with bare undici as with the gateway,
 * and the collections that finally came were full mark-compacts. Counting the bytes relayed and
 * running one young-generation collection every `every` bytes keeps that growth near `every`,
 * and a scavenge costs less than the mark-compacts it replaces (figures in the README: Bodies, under
 * Request handling).
 */
export class BodyMemoryReleaser {
  private pending = 0;
  private scheduled = false;

  /** `collect` runs one young-generation collection; `every` is in bytes (> 0). */
  constructor(
    private readonly every: number,
    private readonly collect: () => void,
  ) {}

  /** Counts `bytes` of body relayed (either direction). */
  relayed(bytes: number): void {
    this.pending += bytes;
    if (this.pending < this.every || this.scheduled) return;
    this.scheduled = true;
    // After the current I/O callbacks: the chunk being relayed right now is still referenced.
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.pending = 0;
    this.scheduled = false;
    this.collect();
  };
}
