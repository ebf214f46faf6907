import type { Trigger, TriggerContext, TriggerResult } from '../trigger.js';
import type { Window } from '../window.js';

function purgeOnFire(r: TriggerResult): TriggerResult {
  return r === 'fire' ? 'fire-and-purge' : r;
}

/**
 * Wraps a trigger so that each firing also purges the window's contents (Flink's
 * PurgingTrigger): `fire` becomes `fire-and-purge`; `continue`, `purge` and
 * `fire-and-purge` pass through. Timers, state, merging and clearing are the inner
 * trigger's.
 *
 * @example
 * // Emit each batch of 100 records once, instead of everything so far every 100 records.
 * keyed.window(globalWindows()).trigger(purging(countTrigger(100)))
 * // Early results every minute that each cover only the records since the last one.
 * keyed.window(tumbling('1h')).trigger(purging(continuousEventTimeTrigger('1m')))
 */
export function purging<T>(trigger: Trigger<T>): Trigger<T> {
  const inner = trigger;
  const onMerge = inner.onMerge;
  return {
    kind: `purging(${inner.kind})`,
    onElement: (e, ts, w, ctx) => purgeOnFire(inner.onElement(e, ts, w, ctx)),
    onEventTime: (time, w, ctx) => purgeOnFire(inner.onEventTime(time, w, ctx)),
    onProcessingTime: (time, w, ctx) => purgeOnFire(inner.onProcessingTime(time, w, ctx)),
    canMerge: () => inner.canMerge?.() ?? false,
    ...(onMerge === undefined ? {} : { onMerge: (w: Window, ctx: TriggerContext) => onMerge.call(inner, w, ctx) }),
    clear: (w, ctx) => inner.clear(w, ctx),
    describe: () => `purging(${inner.describe?.() ?? inner.kind})`,
  };
}
