import { describe, expectTypeOf, it } from 'vitest';
import type { AggregateFunction } from '../../../src/state/types.js';
import { approxDistinctCount, avg, count, distinctCount, first, max, min, percentiles, sum } from '../../../src/window/aggregates/index.js';
import type { TDigest } from '../../../src/window/aggregates/t-digest.js';

interface Order {
  id: string;
  amount: number;
  qty: number;
}

describe('aggregate types', () => {
  it('infer the input from a property name, a function, or the context', () => {
    expectTypeOf(sum()).toEqualTypeOf<AggregateFunction<number, import('../../../src/window/aggregates/exact-sum.js').ExactSum, number>>();
    expectTypeOf(sum<Order>('amount').add).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(sum((o: Order) => o.amount * o.qty).add).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(min('amount').add).parameter(0).toEqualTypeOf<{ readonly amount: number }>();
    const inContext: AggregateFunction<Order, unknown, number | undefined> = max('qty');
    expectTypeOf(inContext).not.toBeAny();
    // A property-name aggregate fits a stream of any record with that numeric property.
    const fits: AggregateFunction<Order, any, number | undefined> = avg('amount');
    expectTypeOf(fits.getResult).returns.toEqualTypeOf<number | undefined>();
    expectTypeOf(percentiles<Order>('amount', [0.5])).toEqualTypeOf<AggregateFunction<Order, TDigest, number[]>>();
    expectTypeOf(percentiles([0.5]).add).parameter(0).toEqualTypeOf<number>();
    expectTypeOf(distinctCount<Order>('id').getResult).returns.toEqualTypeOf<number>();
    expectTypeOf(approxDistinctCount((o: Order) => o.id, { precision: 14 }).add).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(first<Order>().getResult).returns.toEqualTypeOf<Order | undefined>();
    expectTypeOf(count<Order>().add).parameter(0).toEqualTypeOf<Order>();
  });

  it('reject non-numeric fields for numeric aggregates', () => {
    // @ts-expect-error 'id' is a string property
    sum<Order>('id');
    // @ts-expect-error the function must return a number
    avg((o: Order) => o.id);
    // @ts-expect-error a stream of Orders has no 'price'
    const wrong: AggregateFunction<Order, any, number> = sum('price');
    void wrong;
  });
});
