import { SluiceError } from '../../errors/index.js';
import type { AggregateFunction } from '../../state/types.js';

/** Named aggregate functions over the same input: `{ count: count(), total: sum('v') }`. */
export type NamedAggregates<T> = Readonly<Record<string, AggregateFunction<T, any, any>>>;

/** The results of {@link NamedAggregates}: one value per name. */
export type NamedResults<A extends NamedAggregates<any>> = { readonly [N in keyof A]: A[N] extends AggregateFunction<any, any, infer R> ? R : never };

/**
 * Several aggregates computed together as one: the accumulator holds one accumulator per
 * name (a plain object, so that it checkpoints like any other state), the result one value
 * per name. Each must have `merge`: rollups combine the accumulators of finer buckets.
 *
 * @example
 * const stats = namedAggregates({ n: count(), total: sum<{ v: number }>('v') });
 * stats.getResult(stats.add({ v: 2 }, stats.createAccumulator())) // { n: 1, total: 2 }
 */
export function namedAggregates<T, A extends NamedAggregates<T>>(aggregates: A): Required<Pick<AggregateFunction<T, Record<string, unknown>, NamedResults<A>>, 'createAccumulator' | 'add' | 'getResult' | 'merge' | 'mergeInto'>> {
  if (aggregates === null || typeof aggregates !== 'object') throw new SluiceError('INVALID_ARGUMENT', 'aggregates must be an object of named aggregate functions, such as { n: count() }');
  const names = Object.keys(aggregates);
  if (names.length === 0) throw new SluiceError('INVALID_ARGUMENT', 'aggregates names no aggregate function', { hint: 'Give at least one, such as { n: count() }.' });
  const fns = names.map((n) => {
    const f = aggregates[n]!;
    if (!f || typeof f.add !== 'function' || typeof f.createAccumulator !== 'function' || typeof f.getResult !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', `aggregate '${n}' is not an AggregateFunction (createAccumulator, add, getResult)`);
    }
    if (typeof f.merge !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', `aggregate '${n}' has no merge(): a rollup builds each level by merging the accumulators of the level below`, {
        hint: 'Every built-in aggregate (count, sum, min, max, avg, first, last, distinctCount, …) has merge; add one to your own.',
      });
    }
    return f;
  });
  const mergeOne = (f: AggregateFunction<T, any, any>, a: unknown, b: unknown) => (f.mergeInto ? f.mergeInto(a, b) : f.merge!(a, b));
  return {
    createAccumulator: () => {
      const acc: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) acc[names[i]!] = fns[i]!.createAccumulator();
      return acc;
    },
    add: (value, acc) => {
      for (let i = 0; i < names.length; i++) acc[names[i]!] = fns[i]!.add(value, acc[names[i]!]);
      return acc;
    },
    getResult: (acc) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i]!] = fns[i]!.getResult(acc[names[i]!]);
      return out as NamedResults<A>;
    },
    merge: (a, b) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i]!] = fns[i]!.merge!(a[names[i]!], b[names[i]!]);
      return out;
    },
    mergeInto: (a, b) => {
      for (let i = 0; i < names.length; i++) a[names[i]!] = mergeOne(fns[i]!, a[names[i]!], b[names[i]!]);
      return a;
    },
  };
}
