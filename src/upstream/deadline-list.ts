/**
 * What a DeadlineList keeps on each of its entries: the links live on the entry itself, so adding
 * and removing one allocates nothing.
 */
export interface Deadline {
  /** performance.now() time at which `expire` is called, unless removed first. */
  deadlineAt: number;
  deadlinePrev: Deadline | null;
  deadlineNext: Deadline | null;
  /** The list the entry is waiting in, null when it waits in none. */
  deadlineList: DeadlineList | null;
  expire(): void;
}

/**
 * Deadlines that all lie the same delay after their start (one route's upstream timeout), with one
 * timer for all of them. Entries are added in the order they start, so the list stays sorted by
 * deadline: the timer only has to wait for the head. A node timer per upstream attempt (a Timeout
 * object, its arguments array, a clock read, then a clear) was a measurable share of the request
 * path; here an attempt costs four field writes in and four out. Precision is the millisecond, as
 * with setTimeout.
 */
export class DeadlineList {
  private head: Deadline | null = null;
  private tail: Deadline | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly delayMs: number) {}

  /** `entry` expires `delayMs` after `startedAt` (a performance.now() time no earlier than the last one added). */
  add(entry: Deadline, startedAt: number): void {
    if (entry.deadlineList !== null) entry.deadlineList.remove(entry);
    entry.deadlineAt = startedAt + this.delayMs;
    entry.deadlinePrev = this.tail;
    entry.deadlineNext = null;
    entry.deadlineList = this;
    if (this.tail === null) this.head = entry;
    else this.tail.deadlineNext = entry;
    this.tail = entry;
    if (this.timer === undefined) this.arm(this.delayMs);
  }

  /** `entry` will not expire (it was answered). Removing an entry that is not waiting does nothing. */
  remove(entry: Deadline): void {
    if (entry.deadlineList !== this) return;
    const { deadlinePrev: prev, deadlineNext: next } = entry;
    if (prev === null) this.head = next;
    else prev.deadlineNext = next;
    if (next === null) this.tail = prev;
    else next.deadlinePrev = prev;
    entry.deadlinePrev = null;
    entry.deadlineNext = null;
    entry.deadlineList = null;
  }

  /** Entries waiting, for tests and introspection. */
  get size(): number {
    let n = 0;
    for (let e = this.head; e !== null; e = e.deadlineNext) n++;
    return n;
  }

  private arm(delayMs: number): void {
    // Unreferenced: waiting requests keep the process alive through their sockets, not this timer.
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(delayMs)));
    this.timer.unref();
  }

  /**
   * Expires every entry whose deadline has passed, then waits for the next head. The timer is left
   * to run out when the head it was set for is removed early: it then just waits again, for the
   * new head, which costs one timer per delay instead of a clear and a set per request.
   */
  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    try {
      while (this.head !== null && this.head.deadlineAt <= now) {
        const due = this.head;
        this.remove(due);
        due.expire();
      }
    } finally {
      // Armed again even when an expiry threw, so later entries still expire.
      if (this.head !== null && this.timer === undefined) this.arm(this.head.deadlineAt - now);
    }
  };
}
