import type { WindowAssigner } from '../assigner.js';
import { neverTrigger } from '../triggers/never.js';
import { GLOBAL_WINDOW, type Window } from '../window.js';

const ONLY_GLOBAL: readonly Window[] = Object.freeze([GLOBAL_WINDOW]);

/**
 * One window per key for all time (Flink's GlobalWindows). Its default trigger never
 * fires, so set a trigger that does (count windows are global windows with a purging count
 * trigger). It is neither event- nor processing-time: the window never ends, so allowed
 * lateness and the end-of-window cleanup do not apply.
 *
 * @example
 * // Every 100 records per key, the sum of those 100.
 * keyed.window(globalWindows()).trigger(purging(countTrigger(100))).sum('amount')
 */
export function globalWindows<T = unknown>(): WindowAssigner<T> {
  return Object.freeze({
    kind: 'global',
    isEventTime: false,
    merging: false,
    assignWindows: (): readonly Window[] => ONLY_GLOBAL,
    defaultTrigger: () => neverTrigger<T>(),
    describe: () => 'global',
  });
}
