import { maxTimestamp, type Window } from '../window.js';
import type { Trigger, TriggerContext, TriggerResult } from '../trigger.js';

/**
 * Fires once the job's clock passes the window's end (Flink's ProcessingTimeTrigger), the
 * default of processing-time windows. Each record (re-)registers a processing-time timer
 * at the window's last timestamp, `end - 1`; that timer fires the window.
 *
 * As in Flink, any processing-time timer of the window fires it: this trigger registers
 * no other, and the operator's cleanup timer of a processing-time window is at the same
 * time (allowed lateness does not apply to processing time).
 *
 * @example
 * keyed.window(tumblingProcessingTime('10s')).trigger(processingTimeTrigger())
 */
export function processingTimeTrigger<T = unknown>(): Trigger<T> {
  return {
    kind: 'processing-time',
    onElement(_e: T, _ts: number, window: Window, ctx: TriggerContext): TriggerResult {
      ctx.registerProcessingTimeTimer(maxTimestamp(window));
      return 'continue';
    },
    onEventTime: () => 'continue',
    onProcessingTime: () => 'fire',
    canMerge: () => true,
    onMerge(window, ctx) {
      // As Flink: only a timer still ahead of the clock; onElement, called next for the record that caused the merge, registers it anyway.
      if (maxTimestamp(window) > ctx.currentProcessingTime()) ctx.registerProcessingTimeTimer(maxTimestamp(window));
    },
    clear: (window, ctx) => ctx.deleteProcessingTimeTimer(maxTimestamp(window)),
    describe: () => 'processing time',
  };
}
