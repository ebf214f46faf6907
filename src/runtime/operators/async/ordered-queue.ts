import { saveEntry, type QueueOutput, type RecordEntry, type ResultQueue, type SavedRecord, type SavedWatermark } from './entry.js';

type Element<I, O> = RecordEntry<I, O> | { readonly watermark: number };

/**
 * Ordered results (Flink's OrderedStreamElementQueue): records and watermarks leave in
 * arrival order, so a finished record waits for every record before it.
 */
export class OrderedQueue<I, O> implements ResultQueue<I, O> {
  private elements: Element<I, O>[] = [];
  private head = 0;
  size = 0;

  constructor(private readonly out: QueueOutput<I, O>) {}

  add(entry: RecordEntry<I, O>): void {
    this.elements.push(entry);
    this.size++;
  }

  addWatermark(watermark: number): void {
    if (this.size === 0) return this.out.watermark(watermark);
    const last = this.elements[this.elements.length - 1]!;
    // Watermarks in a row: only the last matters.
    if ('watermark' in last) this.elements[this.elements.length - 1] = { watermark };
    else this.elements.push({ watermark });
  }

  completed(entry: RecordEntry<I, O>): void {
    if (this.elements[this.head] !== entry) return; // it waits for those before it
    const run: RecordEntry<I, O>[] = [];
    while (this.head < this.elements.length) {
      const e = this.elements[this.head]!;
      if ('watermark' in e) {
        if (run.length > 0) this.emit(run.splice(0));
        this.head++;
        this.out.watermark(e.watermark);
        continue;
      }
      if (e.results === undefined) break;
      run.push(e);
      this.head++;
    }
    if (run.length > 0) this.emit(run);
    if (this.head > 1024 && this.head * 2 > this.elements.length) {
      this.elements = this.elements.slice(this.head);
      this.head = 0;
    }
  }

  saved(): (SavedRecord | SavedWatermark)[] {
    return this.elements.slice(this.head).map((e) => ('watermark' in e ? { w: e.watermark } : saveEntry(e)));
  }

  private emit(run: RecordEntry<I, O>[]): void {
    this.size -= run.length;
    this.out.records(run);
  }
}
