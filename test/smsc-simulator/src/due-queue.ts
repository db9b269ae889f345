/** Milliseconds on the same clock as the simulator's records (performance.timeOrigin + performance.now()). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Items held until their due time and released together by one timer: every item due when it fires comes
 * out in one call, in due order, never before its due time. A timer per item released each on its own (a
 * write each on the wire), and Node's timer, started from the loop's cached clock, could fire up to a loop
 * iteration before the delay had passed since the item was scheduled.
 */
export class DueQueue<T> {
  private items: { item: T; dueAt: number }[] = [];
  /** Index of the first held item: released items are skipped, not shifted out one by one. */
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly release: (items: T[]) => void) {}

  get size(): number {
    return this.items.length - this.head;
  }

  add(item: T, dueAt: number): void {
    // Due times mostly arrive in order (a fixed delay); a lowered delay knob inserts further ahead.
    let at = this.items.length;
    while (at > this.head && (this.items[at - 1] as { dueAt: number }).dueAt > dueAt) at--;
    this.items.splice(at, 0, { item, dueAt });
    if (at === this.head) this.arm();
  }

  /** Drops every held item without releasing it (the timer too); returns them. */
  clear(): T[] {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const held = this.items.slice(this.head).map((i) => i.item);
    this.items = [];
    this.head = 0;
    return held;
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const first = this.items[this.head];
    if (first === undefined) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(first.dueAt - nowMs())));
  }

  private fire(): void {
    this.timer = null;
    const now = nowMs();
    let end = this.head;
    while (end < this.items.length && (this.items[end] as { dueAt: number }).dueAt <= now) end++;
    const due: T[] = [];
    for (let i = this.head; i < end; i++) due.push((this.items[i] as { item: T }).item);
    this.head = end;
    // Thousands of receipts can be held at once (long receipt delays under load): compact now and then.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (due.length > 0) this.release(due);
    if (this.timer === null) this.arm();
  }
}
