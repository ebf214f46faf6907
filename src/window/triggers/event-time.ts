import { maxTimestamp, type Window } from '../window.js';
import type { Trigger, TriggerContext, TriggerResult } from '../trigger.js';

/**
 * Fires once the watermark passes the window's end (Flink's EventTimeTrigger), the
 * default of event-time windows. A record that arrives when the watermark is already past
 * the end (late, but within the allowed lateness) fires the window again at once.
 *
 * @example
 * keyed.window(tumbling('1m')).trigger(eventTimeTrigger())
 */
export function eventTimeTrigger<T = unknown>(): Trigger<T> {
  return {
    kind: 'event-time',
    onElement(_e: T, _ts: number, window: Window, ctx: TriggerContext): TriggerResult {
      if (maxTimestamp(window) <= ctx.currentWatermark()) return 'fire';
      ctx.registerEventTimeTimer(maxTimestamp(window));
      return 'continue';
    },
    onEventTime: (time, window) => (time === maxTimestamp(window) ? 'fire' : 'continue'),
    onProcessingTime: () => 'continue',
    canMerge: () => true,
    onMerge(window, ctx) {
      // Only register if the watermark has not passed it yet: otherwise the merge fires on the element.
      if (maxTimestamp(window) > ctx.currentWatermark()) ctx.registerEventTimeTimer(maxTimestamp(window));
    },
    clear: (window, ctx) => ctx.deleteEventTimeTimer(maxTimestamp(window)),
    describe: () => 'event time',
  };
}
