import type { AggregateFunction } from '../../state/types.js';
import { fieldReader } from './field.js';
import { DEFAULT_PRECISION, checkPrecision, hllAdd, hllCreate, hllEstimate, hllMerge } from './hyperloglog.js';

/** Options of {@link approxDistinctCount}: the sketch's size, which sets its accuracy. */
export interface ApproxDistinctCountOptions {
  /** Log2 of the number of registers, an integer in [4, 16]; default 12 (4 KiB, standard error 1.6%). */
  precision?: number;
}

/**
 * The approximate number of distinct values, in fixed memory: a HyperLogLog sketch
 * (see `hyperloglog.ts`). Values are compared by content through their canonical string
 * (`canonical.ts`), as in {@link distinctCount}.
 *
 * The result is the estimate rounded to an integer; its relative standard error is
 * `1.04 / sqrt(2^precision)`. The accumulator is the `Uint8Array` of `2^precision`
 * registers, updated in place by `add`; `merge` (register-wise max) returns a new array and
 * is exact: merging sketches of any split gives the sketch of the whole. Throws
 * INVALID_ARGUMENT for a precision outside [4, 16].
 *
 * @example
 * const agg = approxDistinctCount<{ user: string }>('user', { precision: 14 });
 * let acc = agg.createAccumulator();
 * for (const user of ['ann', 'bob', 'ann']) acc = agg.add({ user }, acc);
 * agg.getResult(acc) === 2
 */
export function approxDistinctCount<T = unknown>(field?: undefined, options?: ApproxDistinctCountOptions): AggregateFunction<T, Uint8Array, number>;
export function approxDistinctCount<T>(field: (value: T) => unknown, options?: ApproxDistinctCountOptions): AggregateFunction<T, Uint8Array, number>;
export function approxDistinctCount<T>(field: NoInfer<keyof T>, options?: ApproxDistinctCountOptions): AggregateFunction<T, Uint8Array, number>;
export function approxDistinctCount<K extends PropertyKey>(field: K, options?: ApproxDistinctCountOptions): AggregateFunction<{ readonly [P in K]: unknown }, Uint8Array, number>;
export function approxDistinctCount(field?: unknown, options: ApproxDistinctCountOptions = {}): AggregateFunction<any, Uint8Array, number> {
  const read = fieldReader<unknown>(field, 'approxDistinctCount');
  const precision = options.precision ?? DEFAULT_PRECISION;
  checkPrecision(precision);
  return {
    createAccumulator: () => hllCreate(precision),
    add: (value, acc) => {
      hllAdd(acc, read(value));
      return acc;
    },
    getResult: (acc) => Math.round(hllEstimate(acc)),
    merge: hllMerge,
  };
}
