import type { DataStream } from '../data-stream.js';
import type { KeyedStream } from '../keyed-stream.js';
import type { OutputTag } from '../../core/output-tag.js';
import type { StatefulStepOptions } from '../../core/step-options.js';
import { SluiceError } from '../../errors/index.js';
import type { Key } from '../../state/types.js';
import { toMillis, type Duration } from '../../time/duration.js';
import {
  IntervalJoinLateCounts,
  intervalJoinFunction,
  type Bounds,
  type IntervalJoinFunction,
} from '../../window/join/interval-join-function.js';

/** Options of an interval join's `process`: those of a stateful step (the uid is required), and where to count late records. */
export interface IntervalJoinOptions extends StatefulStepOptions {
  /** Filled with the counts of late records while the job runs. */
  lateCounts?: IntervalJoinLateCounts;
}

/**
 * Joins two keyed streams on time intervals (Flink's interval join): each left record `a`
 * meets each right record `b` of the same key with
 * `a.ts + lower <= b.ts <= a.ts + upper` (bounds inclusive unless made exclusive), once
 * per pair, as soon as the second of the two arrives; the result carries
 * `max(a.ts, b.ts)`. Made by `keyedStream.intervalJoin(other)`.
 *
 * @example
 * orders.keyBy((o) => o.id)
 *   .intervalJoin(payments.keyBy((p) => p.orderId))
 *   .between('-1m', '10m')
 *   .process((o, p, ctx, out) => out.collect({ id: ctx.key, paidAfter: p.at - o.at }), { uid: 'order-payments' });
 */
export class IntervalJoin<A, B, K extends Key> {
  constructor(
    private readonly left: KeyedStream<A, K>,
    private readonly right: KeyedStream<B, K>,
  ) {
    if (left.stream.job !== right.stream.job) throw new SluiceError('INVALID_JOB', 'intervalJoin() joins streams of two different jobs');
  }

  /** The interval, relative to the left record's time: negative values are before it ('-5s', -5000). `lower` must not exceed `upper`. */
  between(lower: Duration, upper: Duration): IntervalJoined<A, B, K> {
    const lo = signedMillis(lower, 'lower bound');
    const hi = signedMillis(upper, 'upper bound');
    if (lo > hi) {
      throw new SluiceError('INVALID_ARGUMENT', `intervalJoin().between(): the lower bound (${lo} ms) is above the upper bound (${hi} ms)`, {
        hint: 'Give the bounds relative to the left record: between(-1000, 1000) matches right records up to 1 s either side.',
      });
    }
    return new IntervalJoined(this.left, this.right, Object.freeze({ lower: lo, upper: hi, lowerExclusive: false, upperExclusive: false }));
  }
}

/** An interval join with its bounds: optionally make bounds exclusive or route late data, then `process`. Immutable. */
export class IntervalJoined<A, B, K extends Key> {
  /** @internal */
  constructor(
    private readonly left: KeyedStream<A, K>,
    private readonly right: KeyedStream<B, K>,
    private readonly bounds: Bounds<A, B>,
  ) {}

  /** Makes the lower bound exclusive: a right record matches only when `b.ts > a.ts + lower`. */
  lowerBoundExclusive(): IntervalJoined<A, B, K> {
    return this.with({ lowerExclusive: true });
  }
  /** Makes the upper bound exclusive: a right record matches only when `b.ts < a.ts + upper`. */
  upperBoundExclusive(): IntervalJoined<A, B, K> {
    return this.with({ upperExclusive: true });
  }
  /** Left records later than the watermark go here (otherwise they are counted and dropped). */
  sideOutputLeftLateData(tag: OutputTag<A>): IntervalJoined<A, B, K> {
    return this.with({ leftLate: tag });
  }
  /** Right records later than the watermark go here (otherwise they are counted and dropped). */
  sideOutputRightLateData(tag: OutputTag<B>): IntervalJoined<A, B, K> {
    return this.with({ rightLate: tag });
  }

  /** Calls `fn` once per matching pair. The uid names the join's state (both sides' buffers). */
  process<O>(fn: IntervalJoinFunction<A, B, K, O>, options: IntervalJoinOptions): DataStream<O> {
    if (typeof fn !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'intervalJoin process() needs a function (left, right, ctx, out) => void');
    }
    const b = this.bounds;
    if (b.lower === b.upper && (b.lowerExclusive || b.upperExclusive)) {
      throw new SluiceError('INVALID_ARGUMENT', `intervalJoin(): the interval [${b.lower}, ${b.upper}] with an exclusive bound is empty`);
    }
    const { lateCounts, ...stepOptions } = options ?? ({} as IntervalJoinOptions);
    const join = intervalJoinFunction<A, B, K, O>(b, fn, lateCounts ?? new IntervalJoinLateCounts());
    return this.left.connect(this.right).process(join, stepOptions as StatefulStepOptions);
  }

  private with(change: Partial<Bounds<A, B>>): IntervalJoined<A, B, K> {
    return new IntervalJoined(this.left, this.right, Object.freeze({ ...this.bounds, ...change }));
  }
}

function signedMillis(d: Duration, what: string): number {
  if (typeof d === 'string' && d.trim().startsWith('-')) return -toMillis(d.trim().slice(1) as Duration, what);
  if (typeof d === 'number' && d < 0) return -toMillis(-d, what);
  return toMillis(d, what);
}
