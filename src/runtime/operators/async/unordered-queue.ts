import { saveEntry, type QueueOutput, type RecordEntry, type ResultQueue, type SavedRecord, type SavedWatermark } from './entry.js';

/** The records between two watermarks, and the watermark that closes them (undefined: the newest, still open). */
interface Segment<I, O> {
  readonly records: Set<RecordEntry<I, O>>;
  watermark: number | undefined;
}

/**
 * Unordered results (Flink's UnorderedStreamElementQueue): a record leaves as soon as it
 * has its results, but a watermark is a barrier. Records are kept in segments cut at
 * watermarks; only the oldest segment's records may leave, and its watermark leaves once
 * they all have. So every result of a record before a watermark leaves before it, and
 * none after it overtakes it (`test/runtime/async/async-operator.test.ts`).
 */
export class UnorderedQueue<I, O> implements ResultQueue<I, O> {
  private segments: Segment<I, O>[] = [];
  size = 0;

  constructor(private readonly out: QueueOutput<I, O>) {}

  add(entry: RecordEntry<I, O>): void {
    let last = this.segments[this.segments.length - 1];
    if (last === undefined || last.watermark !== undefined) this.segments.push((last = { records: new Set(), watermark: undefined }));
    last.records.add(entry);
    entry.segment = last;
    this.size++;
  }

  addWatermark(watermark: number): void {
    if (this.size === 0) return this.out.watermark(watermark);
    // The newest segment closes; a closed one with no records after it takes the later watermark.
    this.segments[this.segments.length - 1]!.watermark = watermark;
  }

  completed(entry: RecordEntry<I, O>): void {
    const segment = entry.segment as Segment<I, O>;
    if (segment !== this.segments[0]) return; // it waits for the watermark before it
    segment.records.delete(entry);
    this.emit([entry]);
    this.release();
  }

  saved(): (SavedRecord | SavedWatermark)[] {
    return this.segments.flatMap((s) => {
      const records: (SavedRecord | SavedWatermark)[] = [...s.records].map(saveEntry);
      if (s.watermark !== undefined) records.push({ w: s.watermark });
      return records;
    });
  }

  /** While the oldest segment is empty and closed: its watermark leaves, then the finished records of the next. */
  private release(): void {
    for (;;) {
      const first = this.segments[0];
      if (first === undefined || first.records.size > 0 || first.watermark === undefined) return;
      this.segments.shift();
      this.out.watermark(first.watermark);
      const next = this.segments[0];
      if (next === undefined) return;
      const done = [...next.records].filter((e) => e.results !== undefined);
      for (const e of done) next.records.delete(e);
      if (done.length > 0) this.emit(done);
    }
  }

  private emit(entries: RecordEntry<I, O>[]): void {
    this.size -= entries.length;
    this.out.records(entries);
  }
}
