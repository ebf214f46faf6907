import { SluiceError } from '../../errors/index.js';
import { reducingState } from '../../state/descriptors.js';
import type { Trigger, TriggerContext, TriggerResult } from '../trigger.js';

/**
 * The state under which {@link countTrigger} keeps a window's count (per key and window).
 * Exported so that tests and the operator can name it.
 */
export const COUNT_TRIGGER_STATE = reducingState<number>('trigger-count', (a, b) => a + b);

/**
 * Fires when a window has received `n` records since it last fired (Flink's CountTrigger),
 * then starts counting again from zero. It does not purge: the window's contents stay, so
 * the next firing covers them plus `n` more records (wrap it in {@link purging} to emit
 * each batch of `n` once). Time never fires it.
 *
 * With merging windows (sessions) the counts of the merged windows add up; as in Flink a
 * merged count that already reaches `n` fires with the next record, not at the merge.
 *
 * @example
 * // Every 100 clicks per user, the clicks so far.
 * clicks.keyBy('user').window(globalWindows()).trigger(countTrigger(100))
 * // Tumbling count windows: each batch of 100 once.
 * clicks.keyBy('user').window(globalWindows()).trigger(purging(countTrigger(100)))
 */
export function countTrigger<T = unknown>(n: number): Trigger<T> {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `countTrigger(n): n must be a positive integer, got ${String(n)}`);
  }
  return {
    kind: 'count',
    onElement(_e: T, _ts: number, _w, ctx: TriggerContext): TriggerResult {
      const count = ctx.state(COUNT_TRIGGER_STATE);
      count.add(1);
      if ((count.get() ?? 0) >= n) {
        count.clear();
        return 'fire';
      }
      return 'continue';
    },
    onEventTime: () => 'continue',
    onProcessingTime: () => 'continue',
    canMerge: () => true,
    onMerge: (_w, ctx) => ctx.mergeState(COUNT_TRIGGER_STATE),
    clear: (_w, ctx) => ctx.state(COUNT_TRIGGER_STATE).clear(),
    describe: () => `count ${n}`,
  };
}
