import type { AggregateFunction } from '../../state/types.js';
import { numberReader, type NumericKeys } from './field.js';

/** The accumulator of {@link min} and {@link max}: the extreme so far, `null` before the first element. */
export type ExtremeAccumulator = number | null;

/**
 * The smallest number: of the input itself, a numeric property, or what a function returns.
 *
 * Undefined when nothing was added. As `Math.min`, a NaN anywhere gives NaN and `-0` is
 * smaller than `0`, so the result does not depend on order or on merging. A record whose
 * field is not a number throws BAD_RECORD.
 *
 * @example
 * const agg = min<{ price: number }>('price');
 * agg.getResult(agg.merge!(agg.add({ price: 3 }, agg.createAccumulator()), agg.add({ price: 2 }, agg.createAccumulator()))) === 2
 */
export function min(): AggregateFunction<number, ExtremeAccumulator, number | undefined>;
export function min<T>(field: (value: T) => number): AggregateFunction<T, ExtremeAccumulator, number | undefined>;
export function min<T>(field: NoInfer<NumericKeys<T>>): AggregateFunction<T, ExtremeAccumulator, number | undefined>;
export function min<K extends PropertyKey>(field: K): AggregateFunction<{ readonly [P in K]: number }, ExtremeAccumulator, number | undefined>;
export function min(field?: unknown): AggregateFunction<any, ExtremeAccumulator, number | undefined> {
  return extreme(numberReader<unknown>(field, 'min'), Math.min);
}

/**
 * The aggregate keeping `pick(acc, value)`: shared by {@link min} and `max`.
 *
 * @example
 * extreme((v: number) => v, Math.max).add(5, null) === 5
 */
export function extreme<T>(read: (value: T) => number, pick: (a: number, b: number) => number): AggregateFunction<T, ExtremeAccumulator, number | undefined> {
  const combine = (a: ExtremeAccumulator, b: ExtremeAccumulator): ExtremeAccumulator => (a === null ? b : b === null ? a : pick(a, b));
  return {
    createAccumulator: () => null,
    add: (value, acc) => combine(acc, read(value)),
    getResult: (acc) => acc ?? undefined,
    merge: combine,
  };
}
