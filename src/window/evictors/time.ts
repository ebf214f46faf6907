import { toPositiveMillis, type Duration } from '../../time/duration.js';
import type { Evictor, TimestampedValue } from '../evictor.js';
import type { EvictorOptions } from './count.js';

/**
 * Keeps the records of the last `keep` of event time, measured back from the window's
 * newest record, and evicts the older ones (Flink's TimeEvictor): with `max` the largest
 * timestamp in the window, a record stays when `timestamp > max - keep`. It evicts before
 * the window function runs, or after it with `doEvictAfter: true`. As in Flink, a window
 * whose first record has no timestamp (not a finite number) is left as it is.
 *
 * @example
 * // Every 10 records, the ones from the last minute before the newest.
 * keyed.window(globalWindows()).trigger(countTrigger(10)).evictor(timeEvictor('1m'))
 */
export function timeEvictor<T = unknown>(keep: Duration, options: EvictorOptions = {}): Evictor<T> {
  const keepMs = toPositiveMillis(keep, 'the time a time evictor keeps');
  const after = options.doEvictAfter === true;
  const evict = (records: TimestampedValue<T>[]): TimestampedValue<T>[] => {
    if (records.length === 0 || !Number.isFinite(records[0]!.timestamp)) return records;
    let max = Number.NEGATIVE_INFINITY;
    for (const r of records) if (r.timestamp > max) max = r.timestamp;
    const cutoff = max - keepMs;
    return records.filter((r) => r.timestamp > cutoff);
  };
  return {
    kind: 'time',
    evictBefore: (records) => (after ? records : evict(records)),
    evictAfter: (records) => (after ? evict(records) : records),
    describe: () => `keep last ${keepMs}ms${after ? ' (after)' : ''}`,
  };
}
