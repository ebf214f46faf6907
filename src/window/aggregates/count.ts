import type { AggregateFunction } from '../../state/types.js';

/**
 * Counts the elements. The accumulator is the count itself; merge adds counts.
 *
 * @example
 * const agg = count();
 * agg.getResult(['a', 'b', 'c'].reduce((acc, v) => agg.add(v, acc), agg.createAccumulator())) === 3
 */
export function count<T = unknown>(): AggregateFunction<T, number, number> {
  return {
    createAccumulator: () => 0,
    add: (_value, acc) => acc + 1,
    getResult: (acc) => acc,
    merge: (a, b) => a + b,
  };
}
