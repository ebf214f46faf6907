import { describe, expect, it } from 'vitest';
import { AfterMatchSkip, Pattern, type AfterMatchSkipStrategy } from '../../src/index.js';
import { is, matches, type Ev } from './helpers.js';

// The examples of Flink CEP's documentation, "After Match Skip Strategy".
describe('after-match skip strategies: pattern b+ c over b1 b2 b3 c', () => {
  const bc = (skip: AfterMatchSkipStrategy) => Pattern.begin<Ev, 'b'>('b', skip).where(is('b')).oneOrMore().next('c').where(is('c'));
  it.each([
    ['noSkip', AfterMatchSkip.noSkip(), ['b1 b2 b3 c', 'b2 b3 c', 'b3 c']],
    ['skipToNext', AfterMatchSkip.skipToNext(), ['b1 b2 b3 c', 'b2 b3 c', 'b3 c']],
    ['skipPastLastEvent', AfterMatchSkip.skipPastLastEvent(), ['b1 b2 b3 c']],
    ['skipToFirst(b)', AfterMatchSkip.skipToFirst('b'), ['b1 b2 b3 c', 'b2 b3 c', 'b3 c']],
    ['skipToLast(b)', AfterMatchSkip.skipToLast('b'), ['b1 b2 b3 c', 'b3 c']],
  ] as const)('%s', (_name, skip, expected) => {
    expect(matches(bc(skip), 'b1 b2 b3 c')).toEqual(expected);
  });
});

describe('after-match skip strategies: the documentation\'s other examples', () => {
  it('(a | b | c) (b | c) c+.greedy d over a b c1 c2 c3 d: noSkip gives three, skipToFirst(c) two', () => {
    const p = (skip: AfterMatchSkipStrategy) =>
      Pattern.begin<Ev, 'first'>('first', skip).where(is('a', 'b', 'c')).next('second').where(is('b', 'c')).next('cs').where(is('c')).oneOrMore().greedy().next('d').where(is('d'));
    expect(matches(p(AfterMatchSkip.noSkip()), 'a b c1 c2 c3 d')).toEqual(['a b c1 c2 c3 d', 'b c1 c2 c3 d', 'c1 c2 c3 d']);
    expect(matches(p(AfterMatchSkip.skipToFirst('cs')), 'a b c1 c2 c3 d')).toEqual(['a b c1 c2 c3 d', 'c1 c2 c3 d']);
  });
  it('a b+ over a b1 b2 b3: noSkip gives three, skipToNext only a b1', () => {
    const p = (skip: AfterMatchSkipStrategy) => Pattern.begin<Ev, 'a'>('a', skip).where(is('a')).next('b').where(is('b')).oneOrMore();
    expect(matches(p(AfterMatchSkip.noSkip()), 'a b1 b2 b3')).toEqual(['a b1', 'a b1 b2', 'a b1 b2 b3']);
    expect(matches(p(AfterMatchSkip.skipToNext()), 'a b1 b2 b3')).toEqual(['a b1']);
  });
  it('a match waits while a partial match that started earlier may still complete, and comes after it', () => {
    // a needs a b, z needs an x: z x completes first, but a started earlier, so z x waits;
    // then a b completes, comes out first, and (skip past its last event) drops z x.
    const second = (e: Ev, ctx: { eventsFor(name: 'first'): readonly Ev[] }) => (ctx.eventsFor('first')[0]!.id === 'a' ? is('b')(e) : is('x')(e));
    const p = (skip: AfterMatchSkipStrategy) => Pattern.begin<Ev, 'first'>('first', skip).where(is('a', 'z')).followedBy('second').where(second);
    expect(matches(p(AfterMatchSkip.noSkip()), 'a z x b')).toEqual(['z x', 'a b']);
    expect(matches(p(AfterMatchSkip.skipPastLastEvent()), 'a z x b')).toEqual(['a b']);
  });
  it('refuses a skip strategy that names no stage', () => {
    const p = Pattern.begin<Ev, 'a'>('a', AfterMatchSkip.skipToLast('nope')).where(is('a'));
    expect(() => matches(p, 'a')).toThrow(/PATTERN_INVALID|names no positive stage/);
  });
});
