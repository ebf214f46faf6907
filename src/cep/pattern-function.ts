import type { Collector, OpenContext } from '../core/functions.js';
import type { OutputTag } from '../core/output-tag.js';
import type { Key } from '../state/types.js';
import type { Match } from './pattern.js';

/** What a pattern function sees with a match: the key, the match's time, side outputs. */
export interface PatternContext<K extends Key> {
  /** The key the match was found under. */
  readonly key: K;
  /**
   * The match's timestamp: its last event's time (or, for a match completed by time, its
   * first event's time plus `within`); for a timed-out partial match, when it timed out.
   */
  readonly timestamp: number | undefined;
  /** The step's event-time watermark. */
  currentWatermark(): number;
  /** The job's clock, in epoch ms. */
  currentProcessingTime(): number;
  /** Sends a value to a side output. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/**
 * Turns matches into results (Flink's `PatternProcessFunction`), and optionally handles
 * partial matches that timed out (Flink's `TimedOutPartialMatchHandler`).
 *
 * @example
 * const alerts: PatternProcessFunction<Txn, 'small' | 'large', string, Alert> = {
 *   processMatch: (m, ctx, out) => out.collect({ card: ctx.key, large: m.large[0]!.amount }),
 * };
 */
export interface PatternProcessFunction<T, N extends string, K extends Key, O> {
  /** Called before the first record, in each parallel instance of the step and after a restart. */
  open?(ctx: OpenContext): void;
  /** Handles one match. */
  processMatch: (match: Match<T, N>, ctx: PatternContext<K>, out: Collector<O>) => void;
  /** Handles a partial match that timed out (`within`): send what you need to a side output with `ctx.output`. */
  processTimedOutMatch?: (match: Match<T, N>, ctx: PatternContext<K>) => void;
  /** Called once when the step's task ends. */
  close?(): void;
}

/** A partial match that timed out, as the timed-out side output carries it. */
export interface TimedOutMatch<T, N extends string> {
  /** The events it had taken (stages it had not reached are empty). */
  readonly match: Match<T, N>;
  /** Its first event's time plus `within`. */
  readonly timeoutAt: number;
}
