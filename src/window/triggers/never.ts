import type { Trigger } from '../trigger.js';

/**
 * A trigger that never fires (Flink's `GlobalWindows.NeverTrigger`), the default of
 * {@link globalWindows}: a global window emits only through a trigger you set. It keeps
 * no state and registers no timers, so it merges trivially.
 *
 * @example
 * keyed.window(globalWindows()) // never emits until .trigger(countTrigger(100)) is set
 * neverTrigger().onElement(record, ts, GLOBAL_WINDOW, ctx) === 'continue'
 */
export function neverTrigger<T = unknown>(): Trigger<T> {
  return {
    kind: 'never',
    onElement: () => 'continue',
    onEventTime: () => 'continue',
    onProcessingTime: () => 'continue',
    canMerge: () => true,
    onMerge: () => {},
    clear: () => {},
    describe: () => 'never',
  };
}
