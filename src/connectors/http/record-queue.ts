/**
 * A queue bounded in records and in bytes that takes a group of records all or nothing,
 * so that a request is either accepted whole or refused whole (never partly).
 *
 * Places can be held before the records exist (`reserve`), in records and in bytes: the
 * HTTP source holds a body's bytes while it arrives and its records' places while they
 * are made durable, so the bounds cover what is still being received too. A group's
 * bytes are spread over its records; each record gives its share back when taken.
 *
 * @example
 * const q = new RecordQueue<number>(3, 100);
 * q.offerAll([1, 2], 10); // true
 * q.offerAll([3, 4]); // false: only one place left, nothing taken
 * q.offerAll([3], 95); // false: 95 bytes do not fit in the 90 left
 * q.take(10); // [1, 2]
 */
export class RecordQueue<T> {
  /** Groups in arrival order; the first group is read from `head`. */
  private groups: Array<{ items: T[]; bytes: number }> = [];
  private head = 0;
  /** Records queued or reserved. */
  private count = 0;
  /** Records queued and not yet taken (not counting places only reserved). */
  private filled = 0;
  /** Bytes queued or reserved. */
  private byteCount = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Records queued or reserved. */
  get size(): number {
    return this.count;
  }
  /** Records that `take` can hand out now. */
  get ready(): number {
    return this.filled;
  }
  get free(): number {
    return this.capacity - this.count;
  }
  /** Bytes queued or reserved. */
  get bytes(): number {
    return this.byteCount;
  }
  get freeBytes(): number {
    return this.maxBytes - this.byteCount;
  }

  /** Enqueues every item, with their `bytes` in all, if all fit, and none otherwise; says which. */
  offerAll(items: readonly T[], bytes = 0): boolean {
    if (!this.reserve(items.length, bytes)) return false;
    this.fill(items, bytes, true);
    return true;
  }

  /** Holds `n` places and `bytes` for items not yet here; says whether they fit (holds nothing if not). */
  reserve(n: number, bytes = 0): boolean {
    if (n > this.free || bytes > this.freeBytes) return false;
    this.count += n;
    this.byteCount += bytes;
    return true;
  }
  /** Gives back places and bytes held by `reserve` that will not be filled. */
  release(n: number, bytes = 0): void {
    this.count -= n;
    this.byteCount -= bytes;
  }
  /**
   * Adds `items` with their `bytes`: into places held by `reserve` when `reserved`, else
   * beyond the bounds if need be (replay after a restart must queue all the log holds).
   */
  fill(items: readonly T[], bytes: number, reserved: boolean): void {
    if (!reserved) {
      this.count += items.length;
      this.byteCount += bytes;
    }
    if (items.length === 0) {
      this.byteCount -= bytes; // nothing will be taken to give them back
      return;
    }
    this.groups.push({ items: items.slice(), bytes });
    this.filled += items.length;
  }

  /** Removes and returns up to `max` items, oldest first, giving back their places and bytes. */
  take(max: number): T[] {
    const out: T[] = [];
    while (out.length < max && this.groups.length > 0) {
      const g = this.groups[0]!;
      const left = g.items.length - this.head;
      const n = Math.min(max - out.length, left);
      for (let i = 0; i < n; i++) out.push(g.items[this.head + i]!);
      // The group's bytes, shared by its records: the last one taken gives back the rest.
      const share = n === left ? g.bytes : Math.floor((g.bytes * n) / left);
      g.bytes -= share;
      this.byteCount -= share;
      this.head += n;
      if (this.head === g.items.length) {
        this.groups.shift();
        this.head = 0;
      }
    }
    this.count -= out.length;
    this.filled -= out.length;
    return out;
  }
}
