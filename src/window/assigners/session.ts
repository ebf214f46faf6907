import { SluiceError, describeRecord } from '../../errors/index.js';
import { toPositiveMillis, type Duration } from '../../time/duration.js';
import type { WindowAssigner } from '../assigner.js';
import { eventTimeTrigger } from '../triggers/event-time.js';
import { processingTimeTrigger } from '../triggers/processing-time.js';
import { timeWindow, windowsTouch, type Window } from '../window.js';

/**
 * Groups windows that overlap or touch into the windows that cover them (Flink's
 * `TimeWindow.mergeWindows`): sorted by start, each window joins the current group if it
 * touches the group's cover (`a.start <= b.end && b.start <= a.end`), else starts a new
 * group. Returns only the groups that merge two or more distinct windows, each with its
 * cover; windows that merge with nothing are left out. Equal windows count once (Flink
 * collects a group in a set), so a group of one window given twice is no merge.
 *
 * Results never touch one another, and each covers exactly the union of its windows
 * (pinned by the properties in `session.test.ts`).
 *
 * @example
 * mergeTimeWindows([{ start: 0, end: 10 }, { start: 10, end: 20 }, { start: 30, end: 40 }])
 * // [{ result: { start: 0, end: 20 }, merged: [{ start: 0, end: 10 }, { start: 10, end: 20 }] }]
 */
export function mergeTimeWindows(windows: readonly Window[]): Array<{ result: Window; merged: Window[] }> {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const groups: Array<{ result: Window; merged: Window[] }> = [];
  let current: { result: Window; merged: Window[] } | undefined;
  for (const w of sorted) {
    if (current !== undefined && windowsTouch(current.result, w)) {
      current.result = timeWindow(Math.min(current.result.start, w.start), Math.max(current.result.end, w.end));
      if (!current.merged.some((m) => m.start === w.start && m.end === w.end)) current.merged.push(w);
    } else {
      if (current !== undefined) groups.push(current);
      current = { result: w, merged: [w] };
    }
  }
  if (current !== undefined) groups.push(current);
  return groups.filter((g) => g.merged.length > 1);
}

/** Session windows: a record opens `[timestamp, timestamp + gap)`, and windows that overlap or touch merge. */
export interface SessionWindows<T> extends WindowAssigner<T> {
  readonly merging: true;
  mergeWindows(windows: readonly Window[]): Array<{ result: Window; merged: Window[] }>;
}

/** Session windows with one gap for all records. */
export interface FixedSessionWindows<T> extends SessionWindows<T> {
  readonly gap: number;
}

function make<T>(gapOf: (element: T) => number, isEventTime: boolean, what: string): SessionWindows<T> {
  return Object.freeze({
    kind: 'session',
    isEventTime,
    merging: true as const,
    assignWindows: (element: T, timestamp: number): readonly Window[] => [timeWindow(timestamp, timestamp + gapOf(element))],
    defaultTrigger: () => (isEventTime ? eventTimeTrigger<T>() : processingTimeTrigger<T>()),
    mergeWindows: mergeTimeWindows,
    describe: () => `session ${what}${isEventTime ? '' : ' (processing time)'}`,
  });
}

function fixed<T>(gap: Duration, isEventTime: boolean): FixedSessionWindows<T> {
  const ms = toPositiveMillis(gap, 'session gap');
  return Object.freeze({ ...make<T>(() => ms, isEventTime, `gap ${ms}ms`), gap: ms });
}

function dynamic<T>(gapOf: (element: T) => number, isEventTime: boolean): SessionWindows<T> {
  if (typeof gapOf !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `a dynamic session needs a function from record to gap (ms), got ${typeof gapOf}`);
  }
  const name = gapOf.name || 'the gap function';
  return make<T>(
    (element) => {
      const gap = gapOf(element);
      if (typeof gap !== 'number' || !Number.isFinite(gap) || gap <= 0) {
        // Thrown per record, as Flink's DynamicEventTimeSessionWindows does: 0 < gap is required.
        throw new SluiceError('INVALID_ARGUMENT', `dynamic session: ${name} returned ${typeof gap === 'number' ? String(gap) : describeRecord(gap)} for record ${describeRecord(element)}; a gap must be a finite number of milliseconds greater than 0`);
      }
      return gap;
    },
    isEventTime,
    `gap per record (${name})`,
  );
}

/**
 * Event-time session windows: a key's records fall in one session until no record arrives
 * for `gap`. Each record gets `[timestamp, timestamp + gap)`; windows that overlap or touch
 * merge (see {@link mergeTimeWindows}), so a session ends `gap` after its last record and
 * fires when the watermark passes that end.
 *
 * @example
 * // Sessions of activity per user, closed after 30 minutes of silence.
 * clicks.keyBy('user').window(session('30m')).aggregate(count())
 */
export function session<T = unknown>(gap: Duration): FixedSessionWindows<T> {
  return fixed<T>(gap, true);
}

/**
 * Processing-time session windows: a session ends once the job's clock has seen no record
 * of the key for `gap`.
 *
 * @example
 * keyed.window(sessionProcessingTime('5s'))
 */
export function sessionProcessingTime<T = unknown>(gap: Duration): FixedSessionWindows<T> {
  return fixed<T>(gap, false);
}

/**
 * Event-time session windows whose gap each record chooses (Flink's
 * DynamicEventTimeSessionWindows): the record at `timestamp` gets
 * `[timestamp, timestamp + gapOf(record))`. The gap is in milliseconds; a gap that is not
 * a finite number greater than 0 fails the record with INVALID_ARGUMENT.
 *
 * @example
 * // Premium users' sessions last through 1 h of silence, others' through 10 min.
 * clicks.keyBy('user').window(dynamicSession((c: Click) => (c.premium ? 3_600_000 : 600_000)))
 */
export function dynamicSession<T>(gapOf: (element: T) => number): SessionWindows<T> {
  return dynamic(gapOf, true);
}

/**
 * Processing-time session windows whose gap each record chooses (Flink's
 * DynamicProcessingTimeSessionWindows).
 *
 * @example
 * keyed.window(dynamicSessionProcessingTime((r: { idleMs: number }) => r.idleMs))
 */
export function dynamicSessionProcessingTime<T>(gapOf: (element: T) => number): SessionWindows<T> {
  return dynamic(gapOf, false);
}
