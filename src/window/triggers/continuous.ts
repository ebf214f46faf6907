import { reducingState } from '../../state/descriptors.js';
import type { ReducingState } from '../../state/types.js';
import { toPositiveMillis, type Duration } from '../../time/duration.js';
import type { Trigger, TriggerContext, TriggerResult } from '../trigger.js';
import { maxTimestamp, type Window } from '../window.js';

const earliest = (a: number, b: number): number => Math.min(a, b);

/** Where {@link continuousEventTimeTrigger} keeps a window's next firing time (the earliest wins on merge). */
export const CONTINUOUS_EVENT_TIME_STATE = reducingState<number>('trigger-continuous-event-time', earliest);
/** Where {@link continuousProcessingTimeTrigger} keeps a window's next firing time (the earliest wins on merge). */
export const CONTINUOUS_PROCESSING_TIME_STATE = reducingState<number>('trigger-continuous-processing-time', earliest);

/**
 * Flink's `time - time % interval`: the multiple of `interval` at or below `time` for
 * times >= 0, and at or above it for negative times (`%` rounds toward zero, in Java as
 * here). Kept as Flink has it, so that a record at a negative time gets the same firings:
 * at -113000 with a 3 s interval the next firing is -111000 + 3000 (capped at the end of
 * its window [-120000, -110000), so only the end fires), where flooring would fire early
 * at -111000 too (`operator.test.ts`, "negative event times", pins Flink's firings).
 */
function alignTowardZero(time: number, interval: number): number {
  return time - (time % interval);
}

/**
 * Records and registers the next firing: one interval after `time`, but never after the
 * window's last timestamp.
 */
function scheduleNext(time: number, interval: number, window: Window, fireTime: ReducingState<number>, register: (t: number) => void): void {
  const next = Math.min(time + interval, maxTimestamp(window));
  fireTime.add(next);
  register(next);
}

/**
 * Early results in event time (Flink's ContinuousEventTimeTrigger): the window fires each
 * time the watermark passes a multiple of `interval` (counted from the epoch) while it has
 * records, and fires once more when the watermark passes its end, like
 * {@link eventTimeTrigger}. It does not purge, so every firing covers all records so far
 * (wrap it in {@link purging} for only the records since the last firing).
 *
 * The first record of a window schedules a firing one interval after its timestamp
 * rounded toward zero to a multiple of `interval` (Flink's `ts - ts % interval`; for a
 * negative timestamp that is the multiple above it), capped at the window's last
 * timestamp; each firing schedules the next one an interval later. A record that arrives when the watermark is past the
 * window's end fires the window at once. Merged windows (sessions) keep the earliest
 * scheduled firing.
 *
 * @example
 * // Hourly windows that also emit their running result every 5 minutes of event time.
 * keyed.window(tumbling('1h')).trigger(continuousEventTimeTrigger('5m'))
 */
export function continuousEventTimeTrigger<T = unknown>(interval: Duration): Trigger<T> {
  const every = toPositiveMillis(interval, 'the interval of a continuous event-time trigger');
  const state = CONTINUOUS_EVENT_TIME_STATE;
  return {
    kind: 'continuous-event-time',
    onElement(_e: T, timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
      if (maxTimestamp(window) <= ctx.currentWatermark()) return 'fire';
      ctx.registerEventTimeTimer(maxTimestamp(window));
      const fireTime = ctx.state(state);
      if (fireTime.get() === undefined) {
        scheduleNext(alignTowardZero(timestamp, every), every, window, fireTime, (t) => ctx.registerEventTimeTimer(t));
      }
      return 'continue';
    },
    onEventTime(time, window, ctx) {
      if (time === maxTimestamp(window)) return 'fire';
      const fireTime = ctx.state(state);
      if (fireTime.get() === time) {
        fireTime.clear();
        scheduleNext(time, every, window, fireTime, (t) => ctx.registerEventTimeTimer(t));
        return 'fire';
      }
      return 'continue';
    },
    onProcessingTime: () => 'continue',
    canMerge: () => true,
    onMerge(window, ctx) {
      ctx.mergeState(state);
      // The end timer, as eventTimeTrigger does (Flink leaves it to the next onElement).
      if (maxTimestamp(window) > ctx.currentWatermark()) ctx.registerEventTimeTimer(maxTimestamp(window));
      const next = ctx.state(state).get();
      if (next !== undefined) ctx.registerEventTimeTimer(next);
    },
    clear(window, ctx) {
      const fireTime = ctx.state(state);
      const next = fireTime.get();
      if (next !== undefined) {
        ctx.deleteEventTimeTimer(next);
        fireTime.clear();
      }
      ctx.deleteEventTimeTimer(maxTimestamp(window));
    },
    describe: () => `continuous event time every ${every}ms`,
  };
}

/**
 * Early results in processing time (Flink's ContinuousProcessingTimeTrigger): while a
 * window has records, it fires each time the job's clock passes a multiple of `interval`
 * (counted from the epoch), the last time at the window's last timestamp. Unlike the
 * event-time variant it registers no separate end-of-window timer: the scheduled firings
 * are capped at the window's last timestamp, so the final one falls there.
 *
 * The first record of a window schedules a firing at the first multiple of `interval`
 * after the current processing time (rounded as in {@link continuousEventTimeTrigger});
 * each firing schedules the next one an interval later.
 *
 * @example
 * // A global window per user, emitting its running count every 10 seconds.
 * keyed.window(globalWindows()).trigger(continuousProcessingTimeTrigger('10s'))
 */
export function continuousProcessingTimeTrigger<T = unknown>(interval: Duration): Trigger<T> {
  const every = toPositiveMillis(interval, 'the interval of a continuous processing-time trigger');
  const state = CONTINUOUS_PROCESSING_TIME_STATE;
  return {
    kind: 'continuous-processing-time',
    onElement(_e: T, _ts: number, window: Window, ctx: TriggerContext): TriggerResult {
      const fireTime = ctx.state(state);
      if (fireTime.get() === undefined) {
        const now = ctx.currentProcessingTime();
        scheduleNext(alignTowardZero(now, every), every, window, fireTime, (t) => ctx.registerProcessingTimeTimer(t));
      }
      return 'continue';
    },
    onEventTime: () => 'continue',
    onProcessingTime(time, window, ctx) {
      const fireTime = ctx.state(state);
      if (fireTime.get() !== time) return 'continue';
      fireTime.clear();
      // At the window's end there is no later firing (Flink would re-register the same
      // instant and rely on the window's cleanup to delete it).
      if (time < maxTimestamp(window)) {
        scheduleNext(time, every, window, fireTime, (t) => ctx.registerProcessingTimeTimer(t));
      }
      return 'fire';
    },
    canMerge: () => true,
    onMerge(_window, ctx) {
      ctx.mergeState(state);
      const next = ctx.state(state).get();
      if (next !== undefined) ctx.registerProcessingTimeTimer(next);
    },
    clear(_window, ctx) {
      const fireTime = ctx.state(state);
      const next = fireTime.get();
      if (next !== undefined) {
        ctx.deleteProcessingTimeTimer(next);
        fireTime.clear();
      }
    },
    describe: () => `continuous processing time every ${every}ms`,
  };
}
