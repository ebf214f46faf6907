import { describe, expect, it } from 'vitest';
import { Pattern } from '../../src/index.js';
import { is, matches, type Ev } from './helpers.js';

// The examples of Flink CEP's documentation, "Combining Patterns" and "Contiguity within looping patterns".
describe('contiguity between stages (pattern "a b", input a c b1 b2)', () => {
  const a = () => Pattern.begin<Ev, 'a'>('a').where(is('a'));
  it('next (strict): no match, c comes between', () => {
    expect(matches(a().next('b').where(is('b')), 'a c b1 b2')).toEqual([]);
  });
  it('followedBy (relaxed): a b1', () => {
    expect(matches(a().followedBy('b').where(is('b')), 'a c b1 b2')).toEqual(['a b1']);
  });
  it('followedByAny (non-deterministic relaxed): a b1 and a b2', () => {
    expect(matches(a().followedByAny('b').where(is('b')), 'a c b1 b2')).toEqual(['a b1', 'a b2']);
  });
});

describe('contiguity inside a loop (c, then a+, then b; input c d1 a1 a2 a3 d2 a4 b)', () => {
  const line = 'c d1 a1 a2 a3 d2 a4 b';
  const middle = () => Pattern.begin<Ev, 'start'>('start').where(is('c')).followedBy('middle').where(is('a')).oneOrMore();
  it('consecutive(): only runs of adjacent a', () => {
    const p = middle().consecutive().followedBy('end').where(is('b'));
    expect(matches(p, line).sort()).toEqual(['c a1 a2 a3 b', 'c a1 a2 b', 'c a1 b']);
  });
  it('relaxed (the default): skips d2', () => {
    const p = middle().followedBy('end').where(is('b'));
    expect(matches(p, line).sort()).toEqual(['c a1 a2 a3 a4 b', 'c a1 a2 a3 b', 'c a1 a2 b', 'c a1 b']);
  });
  it('allowCombinations(): every combination after a1', () => {
    const p = middle().allowCombinations().followedBy('end').where(is('b'));
    expect(matches(p, line).sort()).toEqual(
      ['c a1 b', 'c a1 a2 b', 'c a1 a3 b', 'c a1 a4 b', 'c a1 a2 a3 b', 'c a1 a2 a4 b', 'c a1 a3 a4 b', 'c a1 a2 a3 a4 b'].sort(),
    );
  });
});
