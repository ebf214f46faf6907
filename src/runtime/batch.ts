/**
 * Records travel in batches to amortise per-call cost: parallel arrays of values and
 * event timestamps (epoch ms; {@link NO_TIMESTAMP} where a record has none).
 */
export interface Batch<T> {
  readonly values: T[];
  readonly timestamps: number[];
}

/** The timestamp of a record that has none (processing-time pipelines). NaN compares false with every watermark, so such a record is never late. */
export const NO_TIMESTAMP = Number.NaN;

/** The watermark a bounded input emits at its end: it fires every pending event-time timer. */
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;

/** The watermark before any has arrived. */
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;

export function hasTimestamp(timestamp: number): boolean {
  return !Number.isNaN(timestamp);
}

/** A batch builder: appends records, hands out the batch and starts a new one. */
export class BatchBuilder<T> {
  values: T[] = [];
  timestamps: number[] = [];

  get length(): number {
    return this.values.length;
  }
  push(value: T, timestamp: number): void {
    this.values.push(value);
    this.timestamps.push(timestamp);
  }
  /** Returns the records gathered so far and empties the builder. */
  take(): Batch<T> {
    const b = { values: this.values, timestamps: this.timestamps };
    this.values = [];
    this.timestamps = [];
    return b;
  }
}
