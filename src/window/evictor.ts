import type { Window } from './window.js';

/** A record inside a window, as evictors see it. */
export interface TimestampedValue<T> {
  readonly value: T;
  readonly timestamp: number;
}

export interface EvictorContext {
  currentWatermark(): number;
  currentProcessingTime(): number;
}

/**
 * Removes records from a window's contents before and/or after the window function runs
 * (Flink's Evictor). Each hook returns the records to keep. A window with an evictor
 * keeps all its records (no incremental aggregation), as in Flink.
 *
 * @example
 * // Keep only records whose value is positive, before the function sees them.
 * const positives: Evictor<number> = { kind: 'positive', evictBefore: (records) => records.filter((r) => r.value > 0) };
 */
export interface Evictor<T> {
  readonly kind: string;
  evictBefore?(records: TimestampedValue<T>[], window: Window, ctx: EvictorContext): TimestampedValue<T>[];
  evictAfter?(records: TimestampedValue<T>[], window: Window, ctx: EvictorContext): TimestampedValue<T>[];
  describe?(): string;
}
