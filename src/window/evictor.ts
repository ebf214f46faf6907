import type { Window } from './window.js';

/** A record inside a window, as evictors see it. */
export interface TimestampedValue<T> {
  readonly value: T;
  readonly timestamp: number;
}

/** What an evictor may read when its window fires: the time. */
export interface EvictorContext {
  /** The step's event-time watermark (epoch ms). */
  currentWatermark(): number;
  /** The job's clock, in epoch ms. */
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
  /** A short name ('count', 'time', …), shown in `job.explain()`. */
  readonly kind: string;
  /**
   * Called when the window fires, before the function, with the window's records in
   * arrival order: the function gets the records returned, and the window keeps them.
   */
  evictBefore?(records: TimestampedValue<T>[], window: Window, ctx: EvictorContext): TimestampedValue<T>[];
  /** Called after the function has run: the window keeps the records returned for its next firing. */
  evictAfter?(records: TimestampedValue<T>[], window: Window, ctx: EvictorContext): TimestampedValue<T>[];
  /** The evictor's settings in one line, such as `keep last 100`. */
  describe?(): string;
}
