import type { Collector, OpenContext } from '../core/functions.js';
import type { OutputTag } from '../core/output-tag.js';
import type { Key, StateDescriptor, StateOf } from '../state/types.js';
import type { Window } from './window.js';

/**
 * When a firing happened relative to the window's end (Beam's pane timing):
 * `early` before the watermark (or clock) reached the end, `on-time` the first firing at
 * the end, `late` a firing caused by late records within the allowed lateness.
 */
export type FiringTiming = 'early' | 'on-time' | 'late';

/**
 * What `reduce` and `aggregate` without a window function emit: the key, the window and
 * the value, with when the firing happened and whether it updates an earlier result for
 * the same window (a late record within the allowed lateness, or an early firing).
 * Results of `windowAll` have the key `null`.
 */
export interface WindowResult<K, R> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
  readonly value: R;
  readonly timing: FiringTiming;
  /** True when this window emitted before: this result replaces the earlier one. */
  readonly isUpdate: boolean;
}

/** What a window function sees when its window fires. */
export interface WindowContext<K> {
  /** The key of the window. */
  readonly key: K;
  /** The window that fired. */
  readonly window: Window;
  /** When it fired relative to the window's end. */
  readonly timing: FiringTiming;
  /** True when this window fired before and was not purged since: this result updates an earlier one. */
  readonly isUpdate: boolean;
  /** The step's event-time watermark (epoch ms). */
  currentWatermark(): number;
  /** The job's clock, in epoch ms. */
  currentProcessingTime(): number;
  /** State of this key and window; cleared when the window is. */
  windowState<D extends StateDescriptor>(descriptor: D): StateOf<D>;
  /** State of this key across all its windows. */
  globalState<D extends StateDescriptor>(descriptor: D): StateOf<D>;
  /** Sends a value to a side output. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/**
 * A full window function (Flink's ProcessWindowFunction): gets every record of the window
 * (or, combined with `reduce`/`aggregate`, the one pre-aggregated value) and a context.
 *
 * @example
 * const topPages: ProcessWindowFunction<Click, string, string> = {
 *   process: (user, ctx, clicks, out) => out.collect(`${user} ${ctx.window.start}: ${clicks.length} clicks`),
 * };
 */
export interface ProcessWindowFunction<IN, OUT, K extends Key> {
  /** Called before the first record, in each parallel instance of the step and again after a restart. */
  open?(ctx: OpenContext): void;
  /**
   * A window of `key` fired: `elements` are its records (or the one value of a `reduce` or
   * `aggregate` it is combined with). Results carry the window's last timestamp (`end - 1`).
   */
  process: (key: K, ctx: WindowContext<K>, elements: IN[], out: Collector<OUT>) => void;
  /** The window is being removed: clear what you kept in `windowState`. */
  clear?(ctx: WindowContext<K>): void;
  /** Called once when the step's task ends, whether the job finished, failed or was cancelled. */
  close?(): void;
}
