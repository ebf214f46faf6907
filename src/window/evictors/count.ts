import { SluiceError } from '../../errors/index.js';
import type { Evictor, TimestampedValue } from '../evictor.js';

/** Options of the built-in evictors. */
export interface EvictorOptions {
  /** Evict after the window function has run instead of before (default false: before). */
  doEvictAfter?: boolean;
}

/**
 * Keeps the last `n` records of a window, in the window's order, and evicts the older ones
 * (Flink's CountEvictor). It evicts before the window function runs, or after it with
 * `doEvictAfter: true` (then the function sees all records, and only `n` are kept for the
 * next firing).
 *
 * @example
 * // Sliding count windows: every 10 records, the last 100.
 * keyed.window(globalWindows()).trigger(countTrigger(10)).evictor(countEvictor(100))
 */
export function countEvictor<T = unknown>(n: number, options: EvictorOptions = {}): Evictor<T> {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `countEvictor(n): n must be a positive integer, got ${String(n)}`);
  }
  const after = options.doEvictAfter === true;
  const keepLast = (records: TimestampedValue<T>[]): TimestampedValue<T>[] => (records.length <= n ? records : records.slice(records.length - n));
  return {
    kind: 'count',
    evictBefore: (records) => (after ? records : keepLast(records)),
    evictAfter: (records) => (after ? keepLast(records) : records),
    describe: () => `keep last ${n}${after ? ' (after)' : ''}`,
  };
}
