import type { StateDescriptor, StateOf } from '../state/types.js';
import type { Window } from './window.js';

/**
 * A trigger's decision, returned for each record and timer:
 * - `continue`: nothing now;
 * - `fire`: emit the window's result and keep its contents;
 * - `purge`: drop the window's contents without emitting;
 * - `fire-and-purge`: emit, then drop the contents.
 */
export type TriggerResult = 'continue' | 'fire' | 'purge' | 'fire-and-purge';

/** What a trigger may use: time, timers and state, all scoped to the current key and window. */
export interface TriggerContext {
  /** The step's event-time watermark (epoch ms). */
  currentWatermark(): number;
  /** The job's clock, in epoch ms. */
  currentProcessingTime(): number;
  /** Calls `onEventTime` for this window once the watermark reaches `time`. Registering the same time twice keeps one timer. */
  registerEventTimeTimer(time: number): void;
  /** Deletes this window's event-time timer at `time`; nothing happens when there is none. */
  deleteEventTimeTimer(time: number): void;
  /** Calls `onProcessingTime` for this window once the job's clock reaches `time`. */
  registerProcessingTimeTimer(time: number): void;
  /** Deletes this window's processing-time timer at `time`; nothing happens when there is none. */
  deleteProcessingTimeTimer(time: number): void;
  /** The trigger's own state for the current key and window (a count, say). */
  state<D extends StateDescriptor>(descriptor: D): StateOf<D>;
  /**
   * While merging windows (`onMerge`): folds the named state of the merged windows into
   * the result window. Reducing and list state only; other kinds throw INVALID_ARGUMENT.
   */
  mergeState(descriptor: StateDescriptor): void;
}

/**
 * Decides when a window emits. Decisions are returned values. Built-in triggers:
 * event time (the default of event-time windows), processing time, count, continuous
 * (early results every interval), purging (turns fire into fire-and-purge).
 *
 * @example
 * // Fire when a window has seen a record with `final: true`.
 * const onFinal: Trigger<{ final?: boolean }> = {
 *   kind: 'on-final',
 *   onElement: (e) => (e.final ? 'fire-and-purge' : 'continue'),
 *   onEventTime: () => 'continue',
 *   onProcessingTime: () => 'continue',
 *   clear: () => {},
 * };
 */
export interface Trigger<T> {
  /** A short name ('event-time', 'count', …), shown in `job.explain()` when there is no `describe`. */
  readonly kind: string;
  /**
   * A record was added to `window` (once for each window it belongs to); `timestamp` is
   * its event time, NaN when it has none.
   */
  onElement(element: T, timestamp: number, window: Window, ctx: TriggerContext): TriggerResult;
  /**
   * An event-time timer of `window` fired at `time`: one the trigger registered, or, in
   * event-time windows, the window's cleanup at `end - 1` plus the allowed lateness.
   */
  onEventTime(time: number, window: Window, ctx: TriggerContext): TriggerResult;
  /**
   * A processing-time timer of `window` fired at `time`: one the trigger registered, or,
   * in processing-time windows, the window's cleanup at `end - 1`.
   */
  onProcessingTime(time: number, window: Window, ctx: TriggerContext): TriggerResult;
  /** Whether the trigger can be used with merging windows (sessions). */
  canMerge?(): boolean;
  /** Windows were merged into `window`: re-register timers, merge state with `ctx.mergeState`. */
  onMerge?(window: Window, ctx: TriggerContext): void;
  /** The window is being removed: delete the trigger's timers and state. */
  clear(window: Window, ctx: TriggerContext): void;
  /** The trigger and its settings in one line, for `job.explain()`. */
  describe?(): string;
}

/** Whether a decision emits. */
export function fires(r: TriggerResult): boolean {
  return r === 'fire' || r === 'fire-and-purge';
}
/** Whether a decision drops the contents. */
export function purges(r: TriggerResult): boolean {
  return r === 'purge' || r === 'fire-and-purge';
}
