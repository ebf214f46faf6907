import type { AggregateFunction } from '../../state/types.js';

/** What a rollup bucket passes to the next level: its accumulator (a copy) and its result. */
export interface BucketState<ACC, V> {
  readonly acc: ACC;
  readonly values: V;
}

/** A finer bucket as the next level reads it (a window result of the level below): where it starts, and its state. */
export interface FinerBucket<ACC> {
  readonly start: number;
  readonly value: { readonly acc: ACC };
}

type Mergeable<T, ACC, V> = AggregateFunction<T, ACC, V> & { merge(a: ACC, b: ACC): ACC };

/**
 * The finest level: `fn` over raw records, whose result also carries a copy of the
 * accumulator, so that the next level can merge it. A copy, because the window keeps
 * adding late records to its own accumulator in place after it fired.
 */
export function finestLevel<T, ACC, V>(fn: Mergeable<T, ACC, V>): AggregateFunction<T, ACC, BucketState<ACC, V>> {
  return {
    createAccumulator: fn.createAccumulator,
    add: fn.add,
    getResult: (acc) => ({ acc: fn.merge(fn.createAccumulator(), acc), values: fn.getResult(acc) }),
    merge: fn.merge,
  };
}

/**
 * A coarser level: its bucket holds the latest accumulator of each finer bucket it covers,
 * keyed by the finer bucket's start. A correction of a finer bucket (late data within the
 * allowed lateness re-fired it) replaces that bucket's accumulator instead of adding to it,
 * so a coarse bucket always equals the merge of its finer buckets' current states: the
 * property test in `test/window/rollup.property.test.ts` checks each level against DuckDB.
 * The parts are a plain object so that they checkpoint like any state.
 */
export function coarserLevel<ACC, V>(fn: Mergeable<unknown, ACC, V>): AggregateFunction<FinerBucket<ACC>, Record<string, ACC>, BucketState<ACC, V>> {
  return {
    createAccumulator: () => ({}),
    add: (bucket, parts) => {
      parts[bucket.start] = bucket.value.acc;
      return parts;
    },
    getResult: (parts) => {
      let acc = fn.createAccumulator();
      for (const k in parts) acc = fn.mergeInto ? fn.mergeInto(acc, parts[k]!) : fn.merge(acc, parts[k]!);
      return { acc, values: fn.getResult(acc) };
    },
    // The later parts win, as they would arriving one after another.
    merge: (a, b) => ({ ...a, ...b }),
  };
}
