import { SluiceError } from '../../errors/index.js';
import { toPositiveMillis, type Duration } from '../../time/duration.js';
import type { WindowAssigner } from '../assigner.js';
import { eventTimeTrigger } from '../triggers/event-time.js';
import { processingTimeTrigger } from '../triggers/processing-time.js';
import { timeWindow, windowStartFor, type Window } from '../window.js';
import { signedMillis } from './tumbling.js';

/**
 * Sliding windows: windows `[start, start + size)` whose starts are the multiples of
 * `slide` (plus an offset) counted from the epoch. A timestamp belongs to every such
 * window that contains it: `ceil(size / slide)` windows when `size` is a multiple of
 * `slide`, and either `floor` or `ceil` of it otherwise. `size` need not be a multiple of
 * `slide`; when `size < slide` there are gaps, and a record in a gap belongs to no window
 * (it is dropped, as in Flink).
 *
 * `slicing` is `{ size, slide, offset }`: the operator may keep one accumulator per slice
 * of `gcd(size, slide)` and combine `size / gcd` slices per window, since every window
 * start and end falls on a slice boundary.
 */
export interface SlidingWindows<T> extends WindowAssigner<T> {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  /** The same windows shifted by `offset`, which must be shorter than the slide (may be negative). */
  withOffset(offset: Duration): SlidingWindows<T>;
}

function make<T>(size: number, slide: number, offset: number, isEventTime: boolean): SlidingWindows<T> {
  if (Math.abs(offset) >= slide) {
    throw new SluiceError('INVALID_ARGUMENT', `a sliding window's offset (${offset}ms) must be smaller than its slide (${slide}ms)`, {
      hint: 'Window starts repeat every slide, so an offset of a whole slide or more is the same as its remainder: use offset % slide.',
    });
  }
  return Object.freeze({
    kind: 'sliding',
    size,
    slide,
    offset,
    isEventTime,
    merging: false,
    slicing: Object.freeze({ size, slide, offset }),
    assignWindows: (_e: T, timestamp: number): readonly Window[] => {
      // From the latest window holding the timestamp back to the earliest, as Flink lists them.
      const windows: Window[] = [];
      for (let start = windowStartFor(timestamp, slide, offset); start > timestamp - size; start -= slide) {
        windows.push(timeWindow(start, start + size));
      }
      return windows;
    },
    defaultTrigger: () => (isEventTime ? eventTimeTrigger<T>() : processingTimeTrigger<T>()),
    withOffset: (o: Duration) => make<T>(size, slide, signedMillis(o), isEventTime),
    describe: () => `sliding ${size}ms every ${slide}ms${offset ? ` offset ${offset}ms` : ''}${isEventTime ? '' : ' (processing time)'}`,
  });
}

/**
 * Event-time sliding windows of `size`, a new one starting every `slide`.
 *
 * @example
 * // The last 10 minutes of clicks per user, every minute.
 * clicks.keyBy('user').window(sliding('10m', '1m')).aggregate(count())
 * sliding('1h', '15m').assignWindows(r, 3_600_000, ctx) // [3.6e6, 7.2e6), [2.7e6, 6.3e6), [1.8e6, 5.4e6), [0.9e6, 4.5e6)
 * sliding('1d', '1h').withOffset('-30m') // day-long windows starting at hh:30
 */
export function sliding<T = unknown>(size: Duration, slide: Duration): SlidingWindows<T> {
  return make<T>(toPositiveMillis(size, 'window size'), toPositiveMillis(slide, 'window slide'), 0, true);
}

/**
 * Processing-time sliding windows of `size`, a new one starting every `slide` (closed by the
 * job's clock; a record belongs to the windows of the processing time it arrives at).
 *
 * @example
 * keyed.window(slidingProcessingTime('1m', '10s'))
 */
export function slidingProcessingTime<T = unknown>(size: Duration, slide: Duration): SlidingWindows<T> {
  return make<T>(toPositiveMillis(size, 'window size'), toPositiveMillis(slide, 'window slide'), 0, false);
}
