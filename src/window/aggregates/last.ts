import type { AggregateFunction } from '../../state/types.js';
import type { PickAccumulator } from './first.js';

/**
 * The last element, by the order in which elements were added (for a window: arrival
 * order, not event time). Undefined when nothing was added.
 *
 * `merge(a, b)` takes `a` to be the earlier accumulator and keeps b's last element (or
 * a's when b is empty). Accumulators are never changed in place.
 *
 * @example
 * const agg = last<string>();
 * const a = agg.add('x', agg.createAccumulator());
 * const b = agg.add('y', agg.createAccumulator());
 * agg.getResult(agg.merge!(a, b)) === 'y'
 */
export function last<T>(): AggregateFunction<T, PickAccumulator<T>, T | undefined> {
  return {
    createAccumulator: () => ({ seen: false, value: undefined }),
    add: (value) => ({ seen: true, value }),
    getResult: (acc) => acc.value,
    merge: (a, b) => (b.seen ? b : a),
  };
}
