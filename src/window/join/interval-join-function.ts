import type { Collector, KeyedCoProcessFunction, KeyedProcessContext } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { mapState, valueState } from '../../state/descriptors.js';
import type { Key, MapState, ValueState } from '../../state/types.js';
import { dropBefore, firstAtOrAfter, insertByTime, type TimeBuffer } from './time-buffer.js';

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
 *
 * @example
 * const late = new IntervalJoinLateCounts();
 * orders.keyBy('id').intervalJoin(payments.keyBy('orderId')).between('0s', '10m')
 *   .process(matchPayment, { uid: 'order-payments', lateCounts: late });
 * await job.run();
 * late.rightDropped; // payments that came after the watermark
 */
export class IntervalJoinLateCounts {
  leftDropped = 0;
  rightDropped = 0;
  leftToSideOutput = 0;
  rightToSideOutput = 0;
}

/** The interval and late-data outputs of an interval join (built by `IntervalJoin.between`). */
export interface Bounds<A, B> {
  readonly lower: number;
  readonly upper: number;
  readonly lowerExclusive: boolean;
  readonly upperExclusive: boolean;
  readonly leftLate?: OutputTag<A> | undefined;
  readonly rightLate?: OutputTag<B> | undefined;
}

/** The buffers' layout before they were time-indexed: map state from cleanup time to records. */
interface LegacyBucket<V> {
  ts: number[];
  values: V[];
}

/**
 * The join as a keyed co-process function (Flink's IntervalJoinOperator): each side is
 * buffered per key in a {@link TimeBuffer} (records sorted by timestamp); a new record is
 * joined against the records of the other side's buffer inside its interval, found by
 * binary search, then buffered until the watermark passes the last time a future record
 * of the other side could match it. One event-time timer per key stands at the earliest
 * cleanup time of the buffers; when it fires, the expired records (a prefix of each
 * buffer) go and the timer moves to the next earliest.
 *
 * Correctness of the cleanup (pinned by `joins.property.test.ts`): a record is late when
 * its timestamp is below the watermark, so a future right record has `b.ts >= wm`; a left
 * record at `t` can still match it only while `wm <= t + upper` (`<` when exclusive).
 * Symmetrically a right record at `t` waits while `wm <= t - lower`.
 */
export function intervalJoinFunction<A, B, K extends Key, O>(
  bounds: Bounds<A, B>,
  fn: IntervalJoinFunction<A, B, K, O>,
  late: IntervalJoinLateCounts,
): KeyedCoProcessFunction<K, A, B, O> {
  const { lower, upper, lowerExclusive, upperExclusive, leftLate, rightLate } = bounds;
  let uid = '';
  let leftBuffer!: ValueState<TimeBuffer<A>>;
  let rightBuffer!: ValueState<TimeBuffer<B>>;
  let legacyLeft!: MapState<number, LegacyBucket<A>>;
  let legacyRight!: MapState<number, LegacyBucket<B>>;
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

  // The time at which the watermark makes a record useless: its buffer drops it then.
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

  function buffer<V>(state: ValueState<TimeBuffer<V>>, cleanup: number, value: V, ts: number, ctx: KeyedProcessContext<K>): void {
    // A record that no future record can match is joined against the buffer, not kept.
    if (cleanup <= ctx.currentWatermark()) return;
    const buf = state.value();
    if (buf === undefined) {
      state.update({ ts: [ts], values: [value] });
      ctx.timerService.registerEventTimeTimer(cleanup);
    } else {
      // The timer stands at the first record's cleanup: a new first record brings it forward.
      if (insertByTime(buf, ts, value)) ctx.timerService.registerEventTimeTimer(cleanup);
      state.update(buf);
    }
  }

  /** Buffers of a checkpoint taken before the buffers were time-indexed join the new ones. */
  function migrate<V>(legacy: MapState<number, LegacyBucket<V>>, state: ValueState<TimeBuffer<V>>, cleanup: (t: number) => number, ctx: KeyedProcessContext<K>): void {
    for (const bucket of legacy.values()) for (let i = 0; i < bucket.ts.length; i++) buffer(state, cleanup(bucket.ts[i]!), bucket.values[i]!, bucket.ts[i]!, ctx);
    legacy.clear();
  }

  /** Drops a side's records whose cleanup time is at most `time`; keeps the timer at the next first record. */
  function expire<V>(state: ValueState<TimeBuffer<V>>, cleanup: (t: number) => number, time: number, ctx: KeyedProcessContext<K>): void {
    const buf = state.value();
    if (buf === undefined || dropBefore(buf, (t) => cleanup(t) <= time) === 0) return;
    if (buf.ts.length === 0) {
      state.clear();
      return;
    }
    state.update(buf);
    ctx.timerService.registerEventTimeTimer(cleanup(buf.ts[0]!));
  }

  return {
    open(ctx) {
      uid = ctx.uid;
      leftBuffer = ctx.state(valueState<TimeBuffer<A>>('interval-join-left-by-time'));
      rightBuffer = ctx.state(valueState<TimeBuffer<B>>('interval-join-right-by-time'));
      legacyLeft = ctx.state(mapState<number, LegacyBucket<A>>('interval-join-left'));
      legacyRight = ctx.state(mapState<number, LegacyBucket<B>>('interval-join-right'));
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
      if (!legacyRight.isEmpty()) migrate(legacyRight, rightBuffer, rightCleanup, ctx);
      const rb = rightBuffer.value();
      if (rb !== undefined) {
        // Right records in [at + lower, at + upper]; `matches` settles the exclusive bounds.
        const { ts, values } = rb;
        const hi = at + upper;
        for (let i = firstAtOrAfter(ts, at + lower); i < ts.length && ts[i]! <= hi; i++) if (matches(at, ts[i]!)) emit(a, at, values[i]!, ts[i]!, ctx);
      }
      if (!legacyLeft.isEmpty()) migrate(legacyLeft, leftBuffer, leftCleanup, ctx);
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
      if (!legacyLeft.isEmpty()) migrate(legacyLeft, leftBuffer, leftCleanup, ctx);
      const lb = leftBuffer.value();
      if (lb !== undefined) {
        // Left records in [bt - upper, bt - lower].
        const { ts, values } = lb;
        const hi = bt - lower;
        for (let i = firstAtOrAfter(ts, bt - upper); i < ts.length && ts[i]! <= hi; i++) if (matches(ts[i]!, bt)) emit(values[i]!, ts[i]!, b, bt, ctx);
      }
      if (!legacyRight.isEmpty()) migrate(legacyRight, rightBuffer, rightCleanup, ctx);
      buffer(rightBuffer, rightCleanup(bt), b, bt, ctx);
    },
    onTimer(timestamp, ctx) {
      // One timer serves both sides: what either side holds that expires by now goes.
      legacyLeft.remove(timestamp);
      legacyRight.remove(timestamp);
      expire(leftBuffer, leftCleanup, timestamp, ctx);
      expire(rightBuffer, rightCleanup, timestamp, ctx);
    },
  };
}

/** Parses a bound that may be negative ('-5s', -5000). */
