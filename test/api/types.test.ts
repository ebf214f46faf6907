/**
 * Type tests: they pin the public API's types. `npm test` runs `tsc --noEmit` over this
 * file, so a `@ts-expect-error` that stops being an error fails the build.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Job,
  OutputTag,
  collectSink,
  count,
  fromCollection,
  tumbling,
  type DataStream,
  type KeyedProcessFunction,
  type KeyedStream,
  type WindowResult,
} from '../../src/index.js';

interface Click {
  user: string;
  page: string;
  at: number;
}
interface Purchase {
  user: string;
  amount: number;
}

function clicks(): DataStream<Click> {
  return new Job().source(fromCollection<Click>([]), { uid: 'clicks' });
}

describe('public API types', () => {
  it('carries record types through every step', () => {
    const s = clicks();
    expectTypeOf(s.map((c) => c.at)).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(s.filter((c) => c.at > 0)).toEqualTypeOf<DataStream<Click>>();
    expectTypeOf(s.flatMap((c) => [c.user, c.page])).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(s.keyBy((c) => c.user)).toEqualTypeOf<KeyedStream<Click, string>>();
    expectTypeOf(s.keyBy('at')).toEqualTypeOf<KeyedStream<Click, number>>();
    expectTypeOf(s.keyBy('user').reduce((a, b) => (a.at > b.at ? a : b), { uid: 'latest' })).toEqualTypeOf<DataStream<Click>>();
    expectTypeOf(s.keyBy('user').window(tumbling('1m')).aggregate(count(), { uid: 'n' })).toEqualTypeOf<
      DataStream<WindowResult<string, number>>
    >();
    const tag = new OutputTag<Purchase>('p');
    expectTypeOf(s.sideOutput(tag)).toEqualTypeOf<DataStream<Purchase>>();
  });

  it('refuses wiring a stream of T into a function that expects U', () => {
    // Compiled, never called: only the type checker's verdict matters here.
    const wrongWirings = (s: DataStream<Click>) => {
      const onPurchases: KeyedProcessFunction<string, Purchase, number> = { processElement: (p, _ctx, out) => out.collect(p.amount) };
    // @ts-expect-error a function over purchases cannot take clicks
    s.keyBy('user').process(onPurchases, { uid: 'x' });
    // @ts-expect-error map's function must take a Click
    s.map((p: Purchase) => p.amount);
    // @ts-expect-error a sink of numbers cannot take clicks
    s.sinkTo(collectSink<number>());
    // @ts-expect-error union needs streams of the same type
    s.union(s.map((c) => c.at));
    // @ts-expect-error keys are strings, numbers or bigints: not objects
    s.keyBy((c) => ({ user: c.user }));
    // @ts-expect-error a key field must hold a key
    s.keyBy('missing');
    // @ts-expect-error a stateful step needs options with a uid
    s.keyBy('user').reduce((a) => a);
    // @ts-expect-error the uid is required, not optional
    s.keyBy('user').process(onPurchases as never, {});
    };
    expectTypeOf(wrongWirings).toBeFunction();
  });

  it('gives a temporal join the version, or version | undefined for a left join, and refuses joining keys of another type', () => {
    const purchases = (s: DataStream<Click>) => s.map((c): Purchase => ({ user: c.user, amount: c.at }));
    const s = clicks();
    const inner = s.keyBy('user').temporalJoin(purchases(s).keyBy('user'), {
      uid: 'inner',
      kind: 'inner',
      join: (c, p) => {
        expectTypeOf(p).toEqualTypeOf<Purchase>();
        return c.at + p.amount;
      },
    });
    expectTypeOf(inner).toEqualTypeOf<DataStream<number>>();
    const left = s.keyBy('user').temporalJoin(purchases(s).keyBy('user'), {
      uid: 'left',
      kind: 'left',
      join: (c, p) => {
        expectTypeOf(p).toEqualTypeOf<Purchase | undefined>();
        return p === undefined ? c.page : `${c.page}:${p.amount}`;
      },
    });
    expectTypeOf(left).toEqualTypeOf<DataStream<string>>();
    const wrong = () => {
      // @ts-expect-error a left join's version may be undefined
      s.keyBy('user').temporalJoin(purchases(s).keyBy('user'), { uid: 'x', kind: 'left', join: (_c, p) => p.amount });
      // @ts-expect-error both sides must be keyed by the same key type
      s.keyBy('user').temporalJoin(purchases(s).keyBy((p) => p.amount), { uid: 'x', kind: 'inner', join: () => 1 });
    };
    expectTypeOf(wrong).toBeFunction();
  });
});
