import type { AggregateFunction } from '../../state/types.js';
import { canonicalString } from './canonical.js';
import { fieldReader } from './field.js';

/**
 * The accumulator of {@link distinctCount}: the canonical strings of the values seen.
 * To serialise, store `[...set]` and rebuild with `new Set(array)`; structured clone copies
 * it as is.
 */
export type DistinctCountAccumulator = Set<string>;

/**
 * The exact number of distinct values: of the input itself, a property, or what a
 * function returns. Values are compared by content through their canonical string
 * (`canonical.ts`): `{ a: 1 }` twice counts once; `1`, `'1'` and `1n` count three times;
 * `-0` and `0` count once.
 *
 * Memory grows with the number of distinct values; for large or unbounded sets use
 * {@link approxDistinctCount}. `add` updates the set in place; `merge` returns a new set.
 *
 * @example
 * const agg = distinctCount<{ page: string }>('page');
 * let acc = agg.createAccumulator();
 * for (const page of ['/', '/a', '/']) acc = agg.add({ page }, acc);
 * agg.getResult(acc) === 2
 */
export function distinctCount<T = unknown>(): AggregateFunction<T, DistinctCountAccumulator, number>;
export function distinctCount<T>(field: (value: T) => unknown): AggregateFunction<T, DistinctCountAccumulator, number>;
export function distinctCount<T>(field: NoInfer<keyof T>): AggregateFunction<T, DistinctCountAccumulator, number>;
export function distinctCount<K extends PropertyKey>(field: K): AggregateFunction<{ readonly [P in K]: unknown }, DistinctCountAccumulator, number>;
export function distinctCount(field?: unknown): AggregateFunction<any, DistinctCountAccumulator, number> {
  const read = fieldReader<unknown>(field, 'distinctCount');
  return {
    createAccumulator: () => new Set<string>(),
    add: (value, acc) => acc.add(canonicalString(read(value))),
    getResult: (acc) => acc.size,
    merge: (a, b) => {
      const [big, small] = a.size >= b.size ? [a, b] : [b, a];
      const out = new Set(big);
      for (const s of small) out.add(s);
      return out;
    },
  };
}
