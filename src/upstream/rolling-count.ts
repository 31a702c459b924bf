/** Counts events over a rolling window in ten buckets, so memory stays flat at any request rate. */
export class RollingCount {
  private readonly buckets = new Array<number>(10).fill(0);
  private readonly bucketMs: number;
  private current = 0;
  private currentStart = 0;

  constructor(windowMs: number) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / 10));
  }

  private advance(now: number): void {
    if (this.currentStart === 0) this.currentStart = now;
    let steps = Math.floor((now - this.currentStart) / this.bucketMs);
    if (steps <= 0) return;
    if (steps > 10) steps = 10;
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % 10;
      this.buckets[this.current] = 0;
    }
    this.currentStart += Math.floor((now - this.currentStart) / this.bucketMs) * this.bucketMs;
  }

  add(now: number): void {
    this.advance(now);
    this.buckets[this.current]++;
  }

  total(now: number): number {
    this.advance(now);
    let sum = 0;
    for (const b of this.buckets) sum += b;
    return sum;
  }
}
