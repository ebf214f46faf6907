import type { DataStream } from '../../api/data-stream.js';
import type { Collector, KeyedCoProcessFunction, KeyedProcessContext } from '../../core/functions.js';
import type { KeyedStream } from '../../api/keyed-stream.js';
import type { OutputTag } from '../../core/output-tag.js';
import type { StatefulStepOptions } from '../../core/step-options.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { mapState } from '../../state/descriptors.js';
import type { Key, MapState } from '../../state/types.js';
import { toMillis, type Duration } from '../../time/duration.js';

/** What an interval join's function sees with each pair. */
export interface IntervalJoinContext<K extends Key> {
  readonly key: K;
  readonly leftTimestamp: number;
  readonly rightTimestamp: number;
  /** The result's timestamp: the later of the two (Flink's rule). */
  readonly timestamp: number;
  /** Sends a value to a side output (stamped with {@link timestamp}). */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Called once per matching pair (Flink's ProcessJoinFunction). */
export type IntervalJoinFunction<A, B, K extends Key, O> = (left: A, right: B, ctx: IntervalJoinContext<K>, out: Collector<O>) => void;

/**
 * Live counts of records that came later than the watermark, per side: dropped (no late
 * output set for that side) or sent to the side's late-data output. Pass one in the
 * options of `process` to read them while and after the job runs.
 */
export class IntervalJoinLateCounts {
  leftDropped = 0;
  rightDropped = 0;
  leftToSideOutput = 0;
  rightToSideOutput = 0;
}

export interface IntervalJoinOptions extends StatefulStepOptions {
  /** Filled with the counts of late records while the job runs. */
  lateCounts?: IntervalJoinLateCounts;
}

interface Bounds<A, B> {
  readonly lower: number;
  readonly upper: number;
  readonly lowerExclusive: boolean;
  readonly upperExclusive: boolean;
  readonly leftLate?: OutputTag<A> | undefined;
  readonly rightLate?: OutputTag<B> | undefined;
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

  lowerBoundExclusive(): IntervalJoined<A, B, K> {
    return this.with({ lowerExclusive: true });
  }
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

/**
 * One side's buffer bucket: the records that may be dropped at the same time. Buckets
 * are keyed by their cleanup time, not by record time (Flink keys by record time and
 * derives the cleanup time; keying by cleanup time finds the bucket of a firing timer
 * exactly, whatever the timestamps' fractions).
 */
interface Bucket<V> {
  ts: number[];
  values: V[];
}

/**
 * The join as a keyed co-process function (Flink's IntervalJoinOperator): each side is
 * buffered per key in map state; a new record is joined against the other side's buffer,
 * then buffered until the watermark passes the last time a future record of the other
 * side could match it, where an event-time timer drops its bucket.
 *
 * Correctness of the cleanup (pinned by `joins.property.test.ts`): a record is late when
 * its timestamp is below the watermark, so a future right record has `b.ts >= wm`; a left
 * record at `t` can still match it only while `wm <= t + upper` (`<` when exclusive).
 * Symmetrically a right record at `t` waits while `wm <= t - lower`.
 */
function intervalJoinFunction<A, B, K extends Key, O>(
  bounds: Bounds<A, B>,
  fn: IntervalJoinFunction<A, B, K, O>,
  late: IntervalJoinLateCounts,
): KeyedCoProcessFunction<K, A, B, O> {
  const { lower, upper, lowerExclusive, upperExclusive, leftLate, rightLate } = bounds;
  let uid = '';
  let leftBuffer!: MapState<number, Bucket<A>>;
  let rightBuffer!: MapState<number, Bucket<B>>;
  let out!: Collector<O>;
  let pairTs = 0;
  // What the join function collects carries the pair's time, max(left, right).
  const pairOut: Collector<O> = {
    collect: (value) => out.collectAt(value, pairTs),
    collectAt: (value, timestamp) => out.collectAt(value, timestamp),
  };
  let current!: KeyedProcessContext<K>;
  const pairCtx = {
    key: undefined as unknown as K,
    leftTimestamp: 0,
    rightTimestamp: 0,
    timestamp: 0,
    output<X>(tag: OutputTag<X>, value: X): void {
      current.output(tag, value);
    },
  };

  // The time at which the watermark makes a record useless: a timer there drops its bucket.
  const leftCleanup = (t: number) => (upperExclusive ? Math.ceil(t + upper) : Math.floor(t + upper) + 1);
  const rightCleanup = (t: number) => (lowerExclusive ? Math.ceil(t - lower) : Math.floor(t - lower) + 1);
  // Whether a right record at `rt` is in the interval of a left record at `lt`.
  const matches = (lt: number, rt: number): boolean =>
    (lowerExclusive ? rt > lt + lower : rt >= lt + lower) && (upperExclusive ? rt < lt + upper : rt <= lt + upper);

  const emit = (a: A, at: number, b: B, bt: number, ctx: KeyedProcessContext<K>) => {
    const ts = at > bt ? at : bt;
    pairCtx.key = ctx.key;
    pairCtx.leftTimestamp = at;
    pairCtx.rightTimestamp = bt;
    pairCtx.timestamp = ts;
    pairTs = ts;
    fn(a, b, pairCtx, pairOut);
  };

  function timestampOf(value: unknown, ctx: KeyedProcessContext<K>, side: string): number {
    const ts = ctx.timestamp;
    if (ts === undefined) {
      throw new SluiceError('NO_TIMESTAMP', `step '${uid}': the interval join got a ${side} record without timestamp: ${describeRecord(value)}`, {
        step: uid,
      });
    }
    return ts;
  }

  function buffer<V>(state: MapState<number, Bucket<V>>, cleanup: number, value: V, ts: number, ctx: KeyedProcessContext<K>): void {
    // A record that no future record can match is joined against the buffer, not kept.
    if (cleanup <= ctx.currentWatermark()) return;
    const bucket = state.get(cleanup);
    if (bucket === undefined) {
      state.put(cleanup, { ts: [ts], values: [value] });
      ctx.timerService.registerEventTimeTimer(cleanup);
    } else {
      bucket.ts.push(ts);
      bucket.values.push(value);
      state.put(cleanup, bucket);
    }
  }

  return {
    open(ctx) {
      uid = ctx.uid;
      leftBuffer = ctx.state(mapState<number, Bucket<A>>('interval-join-left'));
      rightBuffer = ctx.state(mapState<number, Bucket<B>>('interval-join-right'));
    },
    processElement1(a, ctx, collector) {
      const at = timestampOf(a, ctx, 'left');
      if (at < ctx.currentWatermark()) {
        if (leftLate) {
          late.leftToSideOutput++;
          ctx.output(leftLate, a);
        } else late.leftDropped++;
        return;
      }
      out = collector;
      current = ctx;
      if (!rightBuffer.isEmpty()) {
        for (const bucket of rightBuffer.values()) {
          const { ts, values } = bucket;
          for (let i = 0; i < ts.length; i++) if (matches(at, ts[i]!)) emit(a, at, values[i]!, ts[i]!, ctx);
        }
      }
      buffer(leftBuffer, leftCleanup(at), a, at, ctx);
    },
    processElement2(b, ctx, collector) {
      const bt = timestampOf(b, ctx, 'right');
      if (bt < ctx.currentWatermark()) {
        if (rightLate) {
          late.rightToSideOutput++;
          ctx.output(rightLate, b);
        } else late.rightDropped++;
        return;
      }
      out = collector;
      current = ctx;
      if (!leftBuffer.isEmpty()) {
        for (const bucket of leftBuffer.values()) {
          const { ts, values } = bucket;
          for (let i = 0; i < ts.length; i++) if (matches(ts[i]!, bt)) emit(values[i]!, ts[i]!, b, bt, ctx);
        }
      }
      buffer(rightBuffer, rightCleanup(bt), b, bt, ctx);
    },
    onTimer(timestamp) {
      // One timer serves both sides: buckets of either side with this cleanup time go.
      leftBuffer.remove(timestamp);
      rightBuffer.remove(timestamp);
    },
  };
}

/** Parses a bound that may be negative ('-5s', -5000). */
function signedMillis(d: Duration, what: string): number {
  if (typeof d === 'string' && d.trim().startsWith('-')) return -toMillis(d.trim().slice(1) as Duration, what);
  if (typeof d === 'number' && d < 0) return -toMillis(-d, what);
  return toMillis(d, what);
}
