import { describe, expect, it } from 'vitest';
import { Pattern } from '../../src/index.js';
import { is, matches, type Ev } from './helpers.js';

const as = () => Pattern.begin<Ev, 'a'>('a').where(is('a'));

describe('quantifiers', () => {
  it('times(2): pairs of a, relaxed inside', () => {
    expect(matches(as().times(2), 'a1 a2 x a3')).toEqual(['a1 a2', 'a2 a3']);
  });
  it('times(2) with allowCombinations(): every pair', () => {
    expect(matches(as().times(2).allowCombinations(), 'a1 a2 a3').sort()).toEqual(['a1 a2', 'a1 a3', 'a2 a3']);
  });
  it('times(2, 3) and timesOrMore(2)', () => {
    expect(matches(as().times(2, 3), 'a1 a2 a3').sort()).toEqual(['a1 a2', 'a1 a2 a3', 'a2 a3']);
    expect(matches(as().timesOrMore(2), 'a1 a2 a3').sort()).toEqual(['a1 a2', 'a1 a2 a3', 'a2 a3']);
  });
  it('oneOrMore(): a match on every a, from every start', () => {
    expect(matches(as().oneOrMore(), 'a1 a2 a3').sort()).toEqual(['a1', 'a1 a2', 'a1 a2 a3', 'a2', 'a2 a3', 'a3']);
  });
  it('optional(): with and without the stage', () => {
    const p = as().followedBy('b').where(is('b')).optional().followedBy('c').where(is('c'));
    expect(matches(p, 'a b c').sort()).toEqual(['a b c', 'a c']);
    // times(0, 1) is the same as optional().
    const q = as().followedBy('b').where(is('b')).times(0, 1).followedBy('c').where(is('c'));
    expect(matches(q, 'a b c').sort()).toEqual(['a b c', 'a c']);
  });
  it('greedy(): the loop takes every a before the next stage may start', () => {
    const p = (greedy: boolean) => {
      const mid = Pattern.begin<Ev, 'start'>('start').where(is('c')).followedBy('middle').where(is('a')).oneOrMore();
      return (greedy ? mid.greedy() : mid).followedBy('end').where(is('a', 'b'));
    };
    expect(matches(p(false), 'c a1 a2 a3 b').sort()).toEqual(['c a1 a2', 'c a1 a2 a3', 'c a1 a2 a3 b']);
    expect(matches(p(true), 'c a1 a2 a3 b')).toEqual(['c a1 a2 a3 b']);
  });
  it('until(): an event meeting the stop condition ends the loop', () => {
    expect(matches(as().oneOrMore().until(is('b')), 'a1 c a2 b a3').sort()).toEqual(['a1', 'a1 a2', 'a2', 'a3']);
  });
  it('an iterative condition sees the events already taken (ctx.eventsFor)', () => {
    const amounts: Record<string, number> = { s1: 3, s2: 4, l1: 6, l2: 8 };
    const amount = (e: Ev) => amounts[e.id] ?? 0;
    const p = Pattern.begin<Ev, 'small'>('small')
      .where(is('s'))
      .oneOrMore()
      .consecutive()
      .next('large')
      .where((e, ctx) => is('l')(e) && amount(e) > ctx.eventsFor('small').reduce((n, s) => n + amount(s), 0));
    // l1 (6) is larger than s2 (4) alone, not than s1 + s2 (7).
    expect(matches(p, 's1 s2 l1').sort()).toEqual(['s2 l1']);
    expect(matches(p, 's1 s2 l2').sort()).toEqual(['s1 s2 l2', 's2 l2']);
  });
});

describe('negative stages', () => {
  it('notNext: the very next event must not match', () => {
    const p = as().notNext('x').where(is('x')).followedBy('b').where(is('b'));
    expect(matches(p, 'a x b')).toEqual([]);
    expect(matches(p, 'a y x b')).toEqual(['a b']);
  });
  it('notNext at the end: the match completes on the next event, if it does not match', () => {
    const p = as().notNext('x').where(is('x'));
    expect(matches(p, 'a1 x a2 y')).toEqual(['a2']);
  });
  it('notFollowedBy between stages: nothing matching may come in between', () => {
    const p = as().notFollowedBy('x').where(is('x')).followedBy('b').where(is('b'));
    expect(matches(p, 'a y x b')).toEqual([]);
    expect(matches(p, 'a y b x')).toEqual(['a b']);
  });
  it('refuses a negative stage after an optional one, and quantifiers on a negative stage', () => {
    expect(() => as().optional().notNext('x')).toThrow(/cannot follow an optional/);
    expect(() => as().notFollowedBy('x').oneOrMore()).toThrow(/negative stage/);
    expect(() => as().notFollowedBy('x').optional()).toThrow(/negative stage/);
  });
});

describe('the builder refuses bad patterns at once (PATTERN_INVALID, naming the stage)', () => {
  it('duplicate names, two quantifiers, misplaced until, consecutive and greedy', () => {
    expect(() => as().next('a')).toThrow(/'a' is used twice/);
    expect(() => as().times(2).oneOrMore()).toThrow(/stage 'a'.*already has a quantifier/);
    expect(() => as().until(is('b'))).toThrow(/until\(\) applies only to a loop/);
    expect(() => as().consecutive()).toThrow(/consecutive\(\) applies to a repeated stage/);
    expect(() => as().greedy()).toThrow(/greedy\(\) applies to a repeated stage/);
    // Flink's refusals too: greedy on a single optional event, optional twice, optional after greedy.
    expect(() => as().optional().greedy()).toThrow(/greedy\(\) applies to a repeated stage/);
    expect(() => as().times(0, 2).optional()).toThrow(/optional\(\) was already applied/);
    expect(() => as().oneOrMore().greedy().followedBy('b').optional()).toThrow(/cannot follow a greedy one/);
    expect(() => as().times(3, 2)).toThrow(/times\(3, 2\)/);
    expect(() => as().within('-1s')).toThrow(/INVALID_DURATION|not a duration|non-negative/);
  });
  it('a trailing notFollowedBy needs within', () => {
    expect(() => matches(as().notFollowedBy('x').where(is('x')), 'a')).toThrow(/needs within/);
  });
  it('patterns are immutable: building on one leaves it as it was', () => {
    const p = as();
    p.next('b');
    expect(p.stages.length).toBe(1);
    expect(Object.isFrozen(p)).toBe(true);
  });
});
