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
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  /** The trigger's own state for the current key and window (a count, say). */
  state<D extends StateDescriptor>(descriptor: D): StateOf<D>;
  /**
   * While merging windows (`onMerge`): folds the named reducing/aggregating/value state of
   * the merged windows into the merged result window.
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
  readonly kind: string;
  onElement(element: T, timestamp: number, window: Window, ctx: TriggerContext): TriggerResult;
  onEventTime(time: number, window: Window, ctx: TriggerContext): TriggerResult;
  onProcessingTime(time: number, window: Window, ctx: TriggerContext): TriggerResult;
  /** Whether the trigger can be used with merging windows (sessions). */
  canMerge?(): boolean;
  /** Windows were merged into `window`: re-register timers, merge state with `ctx.mergeState`. */
  onMerge?(window: Window, ctx: TriggerContext): void;
  /** The window is being removed: delete the trigger's timers and state. */
  clear(window: Window, ctx: TriggerContext): void;
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
