import type { DataStream } from '../data-stream.js';
import type { Collector } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import type { StatefulStepOptions } from '../../core/step-options.js';
import { SluiceError } from '../../errors/index.js';
import type { Key } from '../../state/types.js';
import { toMillis, type Duration } from '../../time/duration.js';
import type { Evictor } from '../../window/evictor.js';
import type { Trigger } from '../../window/trigger.js';
import { buildCoGroup, keyedPair, type KeyedPair, type Tagged, type TwoStreamWindowConfig } from './co-group.js';

/**
 * Joins two streams by key within windows, Flink's window join (an inner join): when a
 * window of a key fires, every pair of a left and a right record of that key and window
 * goes through the join function. A window where one side has no record gives nothing.
 * Built on {@link coGroup}, as Flink builds it; results carry the window's last
 * timestamp (`end - 1`). With sliding windows, a pair that shares several windows is
 * joined once per window.
 *
 * @example
 * join(clicks, impressions)
 *   .where((c) => c.adId)
 *   .equalTo((i) => i.adId)
 *   .window(tumbling('1m'))
 *   .apply((c, i) => ({ ad: c.adId, delay: c.at - i.at }), { uid: 'click-after-impression' });
 */
export function join<A, B>(left: DataStream<A>, right: DataStream<B>): JoinedStreams<A, B> {
  return new JoinedStreams(left, right);
}

/** `join(left, right)`: name the left key next. */
export class JoinedStreams<A, B> {
  constructor(
    private readonly left: DataStream<A>,
    private readonly right: DataStream<B>,
  ) {
    if (left.job !== right.job) throw new SluiceError('INVALID_JOB', 'join() joins streams of two different jobs');
  }
  /** The key of the left records. */
  where<K extends Key>(leftKey: (a: A) => K): KeyedPair<A, B, K, JoinWindowed<A, B, K>> {
    return keyedPair(this.left, this.right, leftKey, (config) => new JoinWindowed(config));
  }
}

/** A window join with its window: optionally set trigger, evictor and lateness, then `apply` or `flatApply`. Immutable. */
export class JoinWindowed<A, B, K extends Key> {
  /** @internal */
  constructor(readonly config: TwoStreamWindowConfig<A, B, K>) {}

  /**
   * Replaces the assigner's default trigger; it sees {@link Tagged} records of both sides.
   * Each firing joins every pair in the window, so a trigger that fires a window more
   * than once repeats the pairs it joined before. With merging (session) windows it must
   * be able to merge, which `apply` checks.
   */
  trigger(trigger: Trigger<Tagged<A, B>>): JoinWindowed<A, B, K> {
    return new JoinWindowed(Object.freeze({ ...this.config, trigger }));
  }
  /** Removes records of either side from a window before or after the join (the window then keeps all its records). */
  evictor(evictor: Evictor<Tagged<A, B>>): JoinWindowed<A, B, K> {
    return new JoinWindowed(Object.freeze({ ...this.config, evictor }));
  }
  /**
   * Keeps windows this long after their end: a late record of either side fires its
   * window again, which joins all its pairs again (earlier pairs included). Default 0;
   * a malformed or negative duration throws INVALID_DURATION here.
   */
  allowedLateness(lateness: Duration): JoinWindowed<A, B, K> {
    toMillis(lateness, 'allowed lateness');
    return new JoinWindowed(Object.freeze({ ...this.config, allowedLateness: lateness }));
  }
  /** Records too late for every window go here, tagged with their side (otherwise the window step counts and drops them). */
  sideOutputLateData(tag: OutputTag<Tagged<A, B>>): JoinWindowed<A, B, K> {
    return new JoinWindowed(Object.freeze({ ...this.config, lateTag: tag }));
  }

  /** One result per pair (left record, right record) of a key and window. */
  apply<O>(fn: (left: A, right: B) => O, options: StatefulStepOptions): DataStream<O> {
    if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'join apply() needs a function (left, right) => result');
    return buildCoGroup<A, B, K, O>(
      this.config,
      (_key, ls, rs, out) => {
        for (const a of ls) for (const b of rs) out.collect(fn(a, b));
      },
      options,
      'window join',
    );
  }

  /** Any number of results per pair (Flink's FlatJoinFunction). */
  flatApply<O>(fn: (left: A, right: B, out: Collector<O>) => void, options: StatefulStepOptions): DataStream<O> {
    if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'join flatApply() needs a function (left, right, out) => void');
    return buildCoGroup<A, B, K, O>(
      this.config,
      (_key, ls, rs, out) => {
        for (const a of ls) for (const b of rs) fn(a, b, out);
      },
      options,
      'window join',
    );
  }
}
