import type { AggregateFunction } from '../../state/types.js';

/** The accumulator of {@link first} and `last`: whether an element was seen, and which. */
export interface PickAccumulator<T> {
  readonly seen: boolean;
  readonly value: T | undefined;
}

/**
 * The first element, by the order in which elements were added (for a window: arrival
 * order, not event time). Undefined when nothing was added.
 *
 * `merge(a, b)` takes `a` to be the earlier accumulator and keeps its first element (or
 * b's when a is empty): callers merge in order, as session windows and sliding-window
 * panes do. Accumulators are never changed in place.
 *
 * @example
 * const agg = first<string>();
 * const a = agg.add('x', agg.createAccumulator());
 * const b = agg.add('y', agg.createAccumulator());
 * agg.getResult(agg.merge!(a, b)) === 'x'
 */
export function first<T>(): AggregateFunction<T, PickAccumulator<T>, T | undefined> {
  return {
    createAccumulator: () => ({ seen: false, value: undefined }),
    add: (value, acc) => (acc.seen ? acc : { seen: true, value }),
    getResult: (acc) => acc.value,
    merge: (a, b) => (a.seen ? a : b),
  };
}
