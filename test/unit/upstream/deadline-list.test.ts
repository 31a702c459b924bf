import { DeadlineList, type Deadline } from '../../../src/upstream/deadline-list';

/** An entry that records when it expired, in ms after `origin`. */
class Entry implements Deadline {
  deadlineAt = 0;
  deadlinePrev: Deadline | null = null;
  deadlineNext: Deadline | null = null;
  deadlineList: DeadlineList | null = null;
  expiredAfter: number | undefined;

  constructor(
    readonly name: string,
    private readonly origin: number,
    private readonly onExpire: (e: Entry) => void = () => undefined,
  ) {}

  expire(): void {
    this.expiredAfter = performance.now() - this.origin;
    this.onExpire(this);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every entry has expired (at most 2 s: a loaded machine delays timers). */
async function expired(...entries: Entry[]): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 2000; await sleep(5)) {
    if (entries.every((e) => e.expiredAfter !== undefined)) return;
  }
}

/** How late a timer may fire on a busy machine without the list being wrong. */
const JITTER_MS = 100;

describe('deadline list', () => {
  it('expires each entry its delay after it was added, in order, on real timers', async () => {
    const list = new DeadlineList(60);
    const origin = performance.now();
    const order: string[] = [];
    const a = new Entry('a', origin, (e) => order.push(e.name));
    const b = new Entry('b', origin, (e) => order.push(e.name));
    list.add(a, performance.now());
    await sleep(30);
    const bAddedAt = performance.now(); // node's sleep may end a fraction of a ms before 30
    list.add(b, bAddedAt);
    expect(list.size).toBe(2);
    await expired(a, b);
    expect(order).toEqual(['a', 'b']);
    // Never early, and late by no more than timer jitter.
    expect(a.expiredAfter).toBeGreaterThanOrEqual(60);
    expect(a.expiredAfter).toBeLessThan(60 + JITTER_MS);
    const bDue = bAddedAt - origin + 60;
    expect(b.expiredAfter).toBeGreaterThanOrEqual(bDue);
    expect(b.expiredAfter).toBeLessThan(bDue + JITTER_MS);
    expect(list.size).toBe(0);
  });

  it('never expires a removed entry, wherever it was in the list, and keeps the others', async () => {
    const list = new DeadlineList(40);
    const origin = performance.now();
    const entries = ['head', 'middle', 'tail', 'kept'].map((n) => new Entry(n, origin));
    for (const e of entries) list.add(e, performance.now());
    const [head, middle, tail, kept] = entries;
    list.remove(head);
    list.remove(middle);
    list.remove(middle); // a second remove is harmless
    expect(list.size).toBe(2);
    list.remove(kept);
    list.add(kept, performance.now()); // re-added: now last
    list.remove(tail);
    await expired(kept);
    await sleep(20);
    expect(head.expiredAfter).toBeUndefined();
    expect(middle.expiredAfter).toBeUndefined();
    expect(tail.expiredAfter).toBeUndefined();
    expect(kept.expiredAfter).toBeGreaterThanOrEqual(40);
    expect(kept.deadlineList).toBeNull();
  });

  it('waits for the next head when the one its timer was set for was removed early', async () => {
    const list = new DeadlineList(50);
    const origin = performance.now();
    const first = new Entry('first', origin);
    const second = new Entry('second', origin);
    list.add(first, performance.now());
    await sleep(25);
    // node's timers may wake a fraction of a millisecond before performance.now() says they are
    // due: the deadline is reckoned from when `second` was really added.
    const addedAt = performance.now();
    list.add(second, addedAt);
    list.remove(first); // the timer set for `first` fires at ~50 ms and finds `second` not yet due
    await expired(second);
    const due = addedAt - origin + 50;
    expect(first.expiredAfter).toBeUndefined();
    expect(second.expiredAfter).toBeGreaterThanOrEqual(due);
    expect(second.expiredAfter).toBeLessThan(due + JITTER_MS);
  });

  it('keeps an entry added while another expires (a timed-out attempt retried on the same route)', async () => {
    const list = new DeadlineList(30);
    const origin = performance.now();
    const retried = new Entry('retried', origin);
    const timedOut = new Entry('timed out', origin, () => list.add(retried, performance.now()));
    const later = new Entry('later', origin);
    list.add(timedOut, performance.now());
    await sleep(10);
    const laterAddedAt = performance.now();
    list.add(later, laterAddedAt);
    await expired(timedOut, later, retried);
    expect(timedOut.expiredAfter).toBeGreaterThanOrEqual(30);
    expect(later.expiredAfter).toBeGreaterThanOrEqual(laterAddedAt - origin + 30);
    expect(retried.expiredAfter).toBeGreaterThanOrEqual(60);
    expect(list.size).toBe(0);
  });
});
