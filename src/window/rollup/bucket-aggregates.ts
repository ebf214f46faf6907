import type { AggregateFunction } from '../../state/types.js';

/** What a rollup bucket passes to the next level: its accumulator (a copy) and its result. */
export interface BucketState<ACC, V> {
  readonly acc: ACC;
  readonly values: V;
}

/** A finer bucket as the next level reads it (a window result of the level below): where it is, and its state. */
export interface FinerBucket<ACC> {
  readonly start: number;
  readonly end: number;
  readonly value: { readonly acc: ACC };
}

/**
 * A coarser bucket's accumulator: the merge of the finer buckets that can no longer change
 * (`settled`), and the latest accumulator of each finer bucket that still can (`open`, by
 * start). A plain object, so that it checkpoints like any state.
 */
export interface CoarseAccumulator<ACC> {
  settled: ACC | undefined;
  open: Record<string, { end: number; acc: ACC }>;
  /** The latest end of a finer bucket seen: the watermark upstream had passed it. */
  maxEnd: number;
}

type Mergeable<T, ACC, V> = AggregateFunction<T, ACC, V> & { merge(a: ACC, b: ACC): ACC };

/**
 * The finest level: `fn` over raw records, whose result also carries the accumulator, so
 * that the next level can merge it. With allowed lateness, a copy: the window keeps adding
 * late records to its own accumulator in place after it fired. Without, the window is
 * dropped when it fires, so its accumulator can be handed on as it is.
 */
export function finestLevel<T, ACC, V>(fn: Mergeable<T, ACC, V>, copy: boolean): AggregateFunction<T, ACC, BucketState<ACC, V>> {
  return {
    createAccumulator: fn.createAccumulator,
    add: fn.add,
    getResult: copy ? (acc) => ({ acc: fn.merge(fn.createAccumulator(), acc), values: fn.getResult(acc) }) : (acc) => ({ acc, values: fn.getResult(acc) }),
    merge: fn.merge,
  };
}

/**
 * A coarser level. A correction of a finer bucket (late data within the allowed lateness
 * re-fired it) replaces that bucket's accumulator instead of adding to it, so a coarse
 * bucket always equals the merge of its finer buckets' current states: the property test
 * in `test/window/rollup.property.test.ts` checks each level against DuckDB.
 *
 * Only finer buckets that can still be corrected are kept apart. A finer bucket arrives when
 * its window fired, so the watermark upstream had reached its end; once a bucket ending at
 * `maxEnd` has arrived, a bucket with `end + lateness <= maxEnd` is past its allowed
 * lateness and never re-fires: it is merged into `settled`. So a coarse bucket holds about
 * `lateness / finer size + 1` accumulators, not one per finer bucket (with no lateness, one).
 */
export function coarserLevel<ACC, V>(fn: Mergeable<unknown, ACC, V>, lateness: number): AggregateFunction<FinerBucket<ACC>, CoarseAccumulator<ACC>, BucketState<ACC, V>> {
  const into = (a: ACC, b: ACC): ACC => (fn.mergeInto ? fn.mergeInto(a, b) : fn.merge(a, b));
  return {
    createAccumulator: () => ({ settled: undefined, open: {}, maxEnd: Number.NEGATIVE_INFINITY }),
    add: (bucket, c) => {
      if (bucket.end > c.maxEnd) c.maxEnd = bucket.end;
      c.open[bucket.start] = { end: bucket.end, acc: bucket.value.acc };
      for (const k in c.open) {
        const part = c.open[k]!;
        if (part.end + lateness > c.maxEnd) continue;
        // The finer accumulator may be the finer window's own (no lateness): merge into ours.
        c.settled = into(c.settled ?? fn.createAccumulator(), part.acc);
        delete c.open[k];
      }
      return c;
    },
    getResult: (c) => {
      let acc = c.settled === undefined ? fn.createAccumulator() : fn.merge(fn.createAccumulator(), c.settled);
      for (const k in c.open) acc = into(acc, c.open[k]!.acc);
      return { acc, values: fn.getResult(acc) };
    },
  };
}
