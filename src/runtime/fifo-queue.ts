/**
 * A first-in, first-out queue over an array with a moving head: `shift()` is O(1), unlike
 * `Array.prototype.shift`, and the taken front is cut off once it is over half the array,
 * so memory follows what is queued. Channels keep their events in one.
 */
export class FifoQueue<T> {
  private items: T[] = [];
  private head = 0;

  get isEmpty(): boolean {
    return this.head >= this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The items queued, oldest first (the queue is unchanged). */
  values(): T[] {
    return this.items.slice(this.head);
  }

  /** The oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as never; // let it be collected
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
