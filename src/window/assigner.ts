import type { Trigger } from './trigger.js';
import type { Window } from './window.js';

/** What an assigner may ask while assigning. */
export interface AssignerContext {
  /** The job's clock, in epoch ms. */
  currentProcessingTime(): number;
}

/**
 * Decides which windows a record belongs to (a returned value, as STYLE asks). Built-in
 * assigners: tumbling, sliding, session (fixed or dynamic gap), global; event-time and
 * processing-time variants. Write your own by implementing this interface.
 *
 * @example
 * // Calendar-day windows in a fixed UTC offset of +2 h.
 * const days: WindowAssigner<unknown> = {
 *   kind: 'days+2h', isEventTime: true, merging: false,
 *   assignWindows: (_v, ts) => { const start = Math.floor((ts + 7_200_000) / 86_400_000) * 86_400_000 - 7_200_000; return [{ start, end: start + 86_400_000 }]; },
 *   defaultTrigger: () => eventTimeTrigger(),
 *   describe: () => 'days in UTC+2',
 * };
 */
export interface WindowAssigner<T> {
  /** A short name ('tumbling', 'sliding', 'session', …). */
  readonly kind: string;
  /** Event-time windows are closed by the watermark; processing-time ones by the clock. */
  readonly isEventTime: boolean;
  /** Whether windows merge (sessions): then {@link mergeWindows} is required. */
  readonly merging: boolean;
  /**
   * For aligned windows (tumbling, sliding): their size, slide and offset, which lets the
   * operator keep one accumulator per slice and combine slices per window instead of
   * updating every overlapping window per record.
   */
  readonly slicing?: { readonly size: number; readonly slide: number; readonly offset: number } | undefined;
  /** The windows of a record at `timestamp` (its event time, or the current processing time). */
  assignWindows(element: T, timestamp: number, ctx: AssignerContext): readonly Window[];
  /** The trigger used when the job does not set one. */
  defaultTrigger(): Trigger<T>;
  /**
   * For merging assigners: groups the given windows into merged windows. Returns one entry
   * per merge: the result and the windows it replaces (two or more).
   */
  mergeWindows?(windows: readonly Window[]): Array<{ result: Window; merged: Window[] }>;
  /** The assigner and its settings in one line, for `job.explain()` and error messages: `tumbling 60000ms`. */
  describe(): string;
}
