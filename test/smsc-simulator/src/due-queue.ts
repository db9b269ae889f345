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
  private readonly items: { item: T; dueAt: number }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly release: (items: T[]) => void) {}

  get size(): number {
    return this.items.length;
  }

  add(item: T, dueAt: number): void {
    // Due times mostly arrive in order (a fixed delay); a lowered delay knob inserts further ahead.
    let at = this.items.length;
    while (at > 0 && (this.items[at - 1] as { dueAt: number }).dueAt > dueAt) at--;
    this.items.splice(at, 0, { item, dueAt });
    if (at === 0) this.arm();
  }

  /** Drops every held item without releasing it (the timer too); returns them. */
  clear(): T[] {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    return this.items.splice(0).map((i) => i.item);
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const head = this.items[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(head.dueAt - nowMs())));
  }

  private fire(): void {
    this.timer = null;
    const now = nowMs();
    let n = 0;
    while (n < this.items.length && (this.items[n] as { dueAt: number }).dueAt <= now) n++;
    const due = this.items.splice(0, n).map((i) => i.item);
    if (due.length > 0) this.release(due);
    if (this.timer === null) this.arm();
  }
}
