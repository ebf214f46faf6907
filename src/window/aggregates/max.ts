import type { AggregateFunction } from '../../state/types.js';
import { numberReader, type NumericKeys } from './field.js';
import { extreme, type ExtremeAccumulator } from './min.js';

/**
 * The largest number: of the input itself, a numeric property, or what a function returns.
 *
 * Undefined when nothing was added. As `Math.max`, a NaN anywhere gives NaN and `0` is
 * larger than `-0`, so the result does not depend on order or on merging. A record whose
 * field is not a number throws BAD_RECORD.
 *
 * @example
 * const agg = max((reading: { celsius: number }) => reading.celsius);
 * agg.getResult(agg.add({ celsius: 21.5 }, agg.createAccumulator())) === 21.5
 */
export function max(): AggregateFunction<number, ExtremeAccumulator, number | undefined>;
export function max<T>(field: (value: T) => number): AggregateFunction<T, ExtremeAccumulator, number | undefined>;
export function max<T>(field: NoInfer<NumericKeys<T>>): AggregateFunction<T, ExtremeAccumulator, number | undefined>;
export function max<K extends PropertyKey>(field: K): AggregateFunction<{ readonly [P in K]: number }, ExtremeAccumulator, number | undefined>;
export function max(field?: unknown): AggregateFunction<any, ExtremeAccumulator, number | undefined> {
  return extreme(numberReader<unknown>(field, 'max'), Math.max);
}
