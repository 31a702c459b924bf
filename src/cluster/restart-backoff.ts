/**
 * When to restart a worker that exited: at once the first time, then 1 s, 2 s, 4 s … up to
 * `maxMs` while it keeps dying young, so a worker that crashes at start-up in a loop does not spin
 * a core. A worker that lived `stableMs` resets the count.
 */
export class RestartBackoff {
  private crashes = 0;

  constructor(
    private readonly stableMs = 30_000,
    private readonly maxMs = 30_000,
  ) {}

  /** The delay before restarting a worker that ran for `livedMs`. */
  next(livedMs: number): number {
    if (livedMs >= this.stableMs) this.crashes = 0;
    const delay = this.crashes === 0 ? 0 : Math.min(this.maxMs, 1000 * 2 ** (this.crashes - 1));
    this.crashes++;
    return delay;
  }
}
