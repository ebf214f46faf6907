import type { AggregateFunction } from '../../state/types.js';
import { addExact, addExactSum, copyExactSum, emptyExactSum, exactSumValue, type ExactSum } from './exact-sum.js';
import { numberReader, type NumericKeys } from './field.js';

/** The accumulator of {@link sum}: an exact sum (see `exact-sum.ts`). */
export type SumAccumulator = ExactSum;

/**
 * Sums a number: the input itself, a numeric property, or what a function returns.
 *
 * The sum is exact until the end, then rounded once: the result does not depend on the
 * order of the elements nor on how accumulators were split and merged (the plain `+` loop
 * would). Empty gives 0. Any NaN gives NaN; `Infinity` and `-Infinity` together give NaN.
 * A record whose field is not a number throws BAD_RECORD.
 *
 * `add` updates the accumulator in place and returns it; `merge` returns a new
 * accumulator and leaves both inputs unchanged (sliding-window panes are merged many times).
 *
 * @example
 * const agg = sum<{ amount: number }>('amount');
 * let acc = agg.createAccumulator();
 * for (const order of [{ amount: 0.1 }, { amount: 0.2 }]) acc = agg.add(order, acc);
 * agg.getResult(acc) === 0.30000000000000004 // the double nearest to 0.1 + 0.2 exactly
 */
export function sum(): AggregateFunction<number, SumAccumulator, number>;
export function sum<T>(field: (value: T) => number): AggregateFunction<T, SumAccumulator, number>;
export function sum<T>(field: NoInfer<NumericKeys<T>>): AggregateFunction<T, SumAccumulator, number>;
export function sum<K extends PropertyKey>(field: K): AggregateFunction<{ readonly [P in K]: number }, SumAccumulator, number>;
export function sum(field?: unknown): AggregateFunction<any, SumAccumulator, number> {
  const read = numberReader<unknown>(field, 'sum');
  return {
    createAccumulator: emptyExactSum,
    add: (value, acc) => {
      addExact(acc, read(value));
      return acc;
    },
    getResult: exactSumValue,
    merge: (a, b) => {
      const out = copyExactSum(a);
      addExactSum(out, b);
      return out;
    },
    mergeInto: (a, b) => {
      addExactSum(a, b);
      return a;
    },
  };
}
