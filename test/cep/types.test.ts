/**
 * Type tests of the pattern API: `tsc --noEmit` (part of `npm test`) checks them, so a
 * `@ts-expect-error` that stops being an error fails the build.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Job, OutputTag, Pattern, fromCollection, type DataStream, type Match, type TimedOutMatch } from '../../src/index.js';

interface Txn {
  card: string;
  amount: number;
}

describe('pattern types', () => {
  it('types matches from the stage names, and eventsFor from the names so far', () => {
    const p = Pattern.begin<Txn, 'small'>('small')
      .where((t) => t.amount < 10)
      .times(3)
      .followedBy('large')
      .where((t, ctx) => {
        expectTypeOf(ctx.eventsFor('small')).toEqualTypeOf<readonly Txn[]>();
        // @ts-expect-error: no stage 'medium'
        ctx.eventsFor('medium');
        return t.amount > 500;
      })
      .notFollowedBy('refund')
      .where((t) => t.amount < 0)
      .within('10m');
    expectTypeOf(p).toEqualTypeOf<Pattern<Txn, 'small' | 'large'>>();
    const txns = new Job().source(fromCollection<Txn>([]), { uid: 'txns' });
    const tag = new OutputTag<TimedOutMatch<Txn, 'small' | 'large'>>('t');
    const out = txns
      .keyBy('card')
      .pattern(p)
      .sideOutputTimedOut(tag)
      .select((m, ctx) => {
        expectTypeOf(m).toEqualTypeOf<Match<Txn, 'small' | 'large'>>();
        expectTypeOf(m.large).toEqualTypeOf<Txn[]>();
        expectTypeOf(ctx.key).toEqualTypeOf<string>();
        // @ts-expect-error: negative stages have no events in a match
        void m.refund;
        return m.small.length;
      }, { uid: 'fraud' });
    expectTypeOf(out).toEqualTypeOf<DataStream<number>>();
    expect(p.names).toEqual(['small', 'large']);
  });

  it('a pattern of other events does not fit the stream; with the event type alone, names are plain strings', () => {
    const txns = new Job().source(fromCollection<Txn>([]), { uid: 'txns' });
    const other = Pattern.begin<{ id: number }, 'a'>('a');
    // @ts-expect-error: a pattern over { id: number } on a stream of Txn
    txns.keyBy('card').pattern(other);
    const loose = Pattern.begin<Txn>('small').followedBy('large');
    expectTypeOf(loose).toEqualTypeOf<Pattern<Txn, string>>();
  });
});
