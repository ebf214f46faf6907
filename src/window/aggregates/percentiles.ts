import { SluiceError } from '../../errors/index.js';
import type { AggregateFunction } from '../../state/types.js';
import { numberReader, type NumericKeys } from './field.js';
import { tdAdd, tdCreate, tdMerge, tdQuantiles, type TDigest } from './t-digest.js';

/** Options of {@link percentiles}: the digest's size, which sets its accuracy. */
export interface PercentilesOptions {
  /** The t-digest's compression δ, > 0: about δ centroids at most; default 100 (rank error well under 1%). */
  compression?: number;
}

/**
 * Estimated quantiles of a number (the input itself, a numeric property, or what a
 * function returns), from a t-digest (see `t-digest.ts`).
 *
 * The result is an array aligned with `quantiles`: `percentiles([0.5, 0.99])` gives
 * `[median, p99]`. With no values it is all NaN. Quantiles interpolate linearly between
 * order statistics (numpy's default) and are exact while the digest holds every value
 * (fewer than about `2 · compression / π` values: 63 at the default); beyond, the rank
 * error stays well under 1% at compression 100 and is smallest at the tails. NaN and
 * infinite values are skipped. A record whose field is not a number throws BAD_RECORD.
 *
 * The accumulator is a {@link TDigest}, plain numbers and arrays that serialise to JSON as
 * is. `add` updates it in place; `merge` returns a new digest. Throws INVALID_ARGUMENT for
 * no quantiles, a quantile outside [0, 1], or a compression that is not a positive number.
 *
 * @example
 * const agg = percentiles<{ ms: number }>('ms', [0.5, 1]);
 * let acc = agg.createAccumulator();
 * for (const ms of [5, 1, 3]) acc = agg.add({ ms }, acc);
 * agg.getResult(acc) // [3, 5]
 */
export function percentiles(quantiles: readonly number[], options?: PercentilesOptions): AggregateFunction<number, TDigest, number[]>;
export function percentiles(field: undefined, quantiles: readonly number[], options?: PercentilesOptions): AggregateFunction<number, TDigest, number[]>;
export function percentiles<T>(field: (value: T) => number, quantiles: readonly number[], options?: PercentilesOptions): AggregateFunction<T, TDigest, number[]>;
export function percentiles<T>(field: NoInfer<NumericKeys<T>>, quantiles: readonly number[], options?: PercentilesOptions): AggregateFunction<T, TDigest, number[]>;
export function percentiles<K extends PropertyKey>(
  field: K,
  quantiles: readonly number[],
  options?: PercentilesOptions,
): AggregateFunction<{ readonly [P in K]: number }, TDigest, number[]>;
export function percentiles(...args: unknown[]): AggregateFunction<any, TDigest, number[]> {
  const [field, quantiles, options] = (Array.isArray(args[0]) ? [undefined, ...args] : args) as [unknown, unknown, PercentilesOptions | undefined];
  const read = numberReader<unknown>(field, 'percentiles');
  const qs = checkQuantiles(quantiles);
  const compression = options?.compression ?? 100;
  if (typeof compression !== 'number' || !Number.isFinite(compression) || compression <= 0) {
    throw new SluiceError('INVALID_ARGUMENT', `percentiles(): compression must be a finite number > 0, got ${String(compression)}`, {
      hint: 'Leave it out for the default 100; raise it (200, 500) for more precision at the cost of memory.',
    });
  }
  return {
    createAccumulator: () => tdCreate(compression),
    add: (value, acc) => {
      tdAdd(acc, read(value));
      return acc;
    },
    // `+ 0` turns -0 into 0: the quantile of [-0] is reported as 0, as a batch computation gives.
    getResult: (acc) => tdQuantiles(acc, qs).map((q) => q + 0),
    merge: tdMerge,
  };
}

function checkQuantiles(quantiles: unknown): readonly number[] {
  if (!Array.isArray(quantiles) || quantiles.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', `percentiles(): expected a non-empty array of quantiles in [0, 1], got ${String(quantiles)}`, {
      hint: 'For example percentiles([0.5, 0.9, 0.99]), or percentiles("latency", [0.5, 0.99]).',
    });
  }
  for (const q of quantiles) {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
      throw new SluiceError('INVALID_ARGUMENT', `percentiles(): quantile ${String(q)} is outside [0, 1]`, {
        hint: 'Quantiles are fractions: the 99th percentile is 0.99.',
      });
    }
  }
  return Object.freeze(quantiles.slice() as number[]);
}
