/**
 * A bounded first-in-first-out queue that takes a group of records all or nothing, so
 * that a request is either accepted whole or refused whole (never partly).
 *
 * @example
 * const q = new RecordQueue<number>(3);
 * q.offerAll([1, 2]); // true
 * q.offerAll([3, 4]); // false: only one place left, nothing taken
 * q.take(10); // [1, 2]
 */
export class RecordQueue<T> {
  /** Groups in arrival order; the first group is read from `head`. */
  private groups: T[][] = [];
  private head = 0;
  private count = 0;
  /** Items queued and not yet taken (not counting places only reserved). */
  private filled = 0;

  constructor(readonly capacity: number) {}

  /** Items queued or reserved. */
  get size(): number {
    return this.count;
  }
  /** Items that `take` can hand out now. */
  get ready(): number {
    return this.filled;
  }
  get free(): number {
    return this.capacity - this.count;
  }

  /** Enqueues every item if all fit, and none otherwise; says which. */
  offerAll(items: readonly T[]): boolean {
    if (items.length > this.free) return false;
    if (items.length > 0) {
      this.groups.push(items.slice());
      this.count += items.length;
      this.filled += items.length;
    }
    return true;
  }

  /** Holds `n` places for items that are still being made durable; says whether they fit. */
  reserve(n: number): boolean {
    if (n > this.free) return false;
    this.count += n;
    return true;
  }
  /** Gives back places held by `reserve` that will not be filled. */
  release(n: number): void {
    this.count -= n;
  }
  /** Fills places held by `reserve` (or adds beyond capacity when `n` were not reserved: replay after a restart). */
  fill(items: readonly T[], reserved: boolean): void {
    if (items.length === 0) return;
    this.groups.push(items.slice());
    this.filled += items.length;
    if (!reserved) this.count += items.length;
  }

  /** Removes and returns up to `max` items, oldest first. */
  take(max: number): T[] {
    const out: T[] = [];
    while (out.length < max && this.groups.length > 0) {
      const g = this.groups[0]!;
      const n = Math.min(max - out.length, g.length - this.head);
      for (let i = 0; i < n; i++) out.push(g[this.head + i]!);
      this.head += n;
      if (this.head === g.length) {
        this.groups.shift();
        this.head = 0;
      }
    }
    this.count -= out.length;
    this.filled -= out.length;
    return out;
  }
}
