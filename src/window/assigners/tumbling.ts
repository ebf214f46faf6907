import { SluiceError } from '../../errors/index.js';
import { toMillis, toPositiveMillis, type Duration } from '../../time/duration.js';
import type { WindowAssigner } from '../assigner.js';
import { eventTimeTrigger } from '../triggers/event-time.js';
import { processingTimeTrigger } from '../triggers/processing-time.js';
import { timeWindow, windowStartFor, type Window } from '../window.js';

/** Tumbling windows: fixed size, no overlap, `[start, start + size)` aligned to the epoch plus an offset. */
export interface TumblingWindows<T> extends WindowAssigner<T> {
  readonly size: number;
  readonly offset: number;
  /** The same windows shifted by `offset` (for example '-2h' for days in UTC−2). */
  withOffset(offset: Duration): TumblingWindows<T>;
}

function make<T>(size: number, offset: number, isEventTime: boolean): TumblingWindows<T> {
  if (Math.abs(offset) >= size) {
    throw new SluiceError('INVALID_ARGUMENT', `a tumbling window's offset (${offset}ms) must be smaller than its size (${size}ms)`);
  }
  return Object.freeze({
    kind: 'tumbling',
    size,
    offset,
    isEventTime,
    merging: false,
    slicing: Object.freeze({ size, slide: size, offset }),
    assignWindows: (_e: T, timestamp: number): readonly Window[] => {
      const start = windowStartFor(timestamp, size, offset);
      return [timeWindow(start, start + size)];
    },
    defaultTrigger: () => (isEventTime ? eventTimeTrigger<T>() : processingTimeTrigger<T>()),
    withOffset: (o: Duration) => make<T>(size, signedMillis(o), isEventTime),
    describe: () => `tumbling ${size}ms${offset ? ` offset ${offset}ms` : ''}${isEventTime ? '' : ' (processing time)'}`,
  });
}

/** Parses an offset, which may be negative ('-1h'). */
export function signedMillis(d: Duration): number {
  if (typeof d === 'string' && d.trim().startsWith('-')) return -toMillis(d.trim().slice(1) as Duration, 'offset');
  if (typeof d === 'number' && d < 0) return -toMillis(-d, 'offset');
  return toMillis(d, 'offset');
}

/**
 * Event-time tumbling windows of `size`.
 *
 * @example
 * clicks.keyBy('user').window(tumbling('1m')).aggregate(count())
 * tumbling('1d').withOffset('-8h') // days starting at 08:00 UTC
 */
export function tumbling<T = unknown>(size: Duration): TumblingWindows<T> {
  return make<T>(toPositiveMillis(size, 'window size'), 0, true);
}

/**
 * Processing-time tumbling windows of `size` (closed by the job's clock): a record goes
 * to the window of the time it arrives, whatever its event time.
 *
 * @example
 * requests.keyBy('path').window(tumblingProcessingTime('10s')).aggregate(count(), { uid: 'requests-per-10s' });
 */
export function tumblingProcessingTime<T = unknown>(size: Duration): TumblingWindows<T> {
  return make<T>(toPositiveMillis(size, 'window size'), 0, false);
}
