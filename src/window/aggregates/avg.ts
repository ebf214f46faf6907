import type { AggregateFunction } from '../../state/types.js';
import { addExact, addExactSum, copyExactSum, emptyExactSum, exactSumValue, type ExactSum } from './exact-sum.js';
import { numberReader, type NumericKeys } from './field.js';

/** The accumulator of {@link avg}: an exact sum and a count. */
export interface AvgAccumulator {
  sum: ExactSum;
  count: number;
}

/**
 * The arithmetic mean of a number: the input itself, a numeric property, or what a
 * function returns.
 *
 * Undefined when nothing was added. The sum is exact (see `sum`), so the mean is the
 * correctly rounded sum divided by the count, whatever the order and the merges. NaN
 * and infinities behave as in `sum`. A record whose field is not a number throws BAD_RECORD.
 * `add` updates the accumulator in place; `merge` returns a new one.
 *
 * @example
 * const agg = avg<{ ms: number }>('ms');
 * let acc = agg.createAccumulator();
 * for (const ms of [10, 20, 60]) acc = agg.add({ ms }, acc);
 * agg.getResult(acc) === 30
 */
export function avg(): AggregateFunction<number, AvgAccumulator, number | undefined>;
export function avg<T>(field: (value: T) => number): AggregateFunction<T, AvgAccumulator, number | undefined>;
export function avg<T>(field: NoInfer<NumericKeys<T>>): AggregateFunction<T, AvgAccumulator, number | undefined>;
export function avg<K extends PropertyKey>(field: K): AggregateFunction<{ readonly [P in K]: number }, AvgAccumulator, number | undefined>;
export function avg(field?: unknown): AggregateFunction<any, AvgAccumulator, number | undefined> {
  const read = numberReader<unknown>(field, 'avg');
  return {
    createAccumulator: () => ({ sum: emptyExactSum(), count: 0 }),
    add: (value, acc) => {
      addExact(acc.sum, read(value));
      acc.count++;
      return acc;
    },
    getResult: (acc) => (acc.count === 0 ? undefined : exactSumValue(acc.sum) / acc.count),
    merge: (a, b) => {
      const sum = copyExactSum(a.sum);
      addExactSum(sum, b.sum);
      return { sum, count: a.count + b.count };
    },
  };
}
