import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { aggregateLaws, addAll } from './aggregate-suite.js';
import { avg, count, first, last, max, min, sum } from '../../../src/window/aggregates/index.js';
import { exactSumReference } from './reference.js';

/** Finite doubles of every scale, with ties, cancellations and signed zeros. */
const double = fc.oneof(
  fc.double({ min: -1e15, max: 1e15, noNaN: true }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(0, -0, 0.1, 0.2, 0.3, -0.1, 1e15, -1e15, 2 ** 53, 2 ** -1074, 1 / 3),
  fc.double({ min: -1, max: 1, noNaN: true }),
);
const doubles = fc.array(double, { maxLength: 60 });

describe('count', () => {
  aggregateLaws({ aggregate: () => count(), values: fc.array(fc.anything(), { maxLength: 50 }), reference: (vs) => vs.length });
});

describe('sum', () => {
  aggregateLaws({ aggregate: () => sum(), values: doubles, reference: exactSumReference });

  it('is the exact sum rounded once, unlike a plain loop', () => {
    const agg = sum();
    expect(agg.getResult(addAll(agg, [0.1, 0.2, -0.3]))).toBe(2 ** -55);
    expect(agg.getResult(addAll(agg, [1e100, 1, -1e100]))).toBe(1);
    expect(agg.getResult(addAll(agg, []))).toBe(0);
  });

  it('reads a property or a function, and gives NaN for NaN or opposite infinities', () => {
    expect(sum<{ n: number }>('n').getResult(addAll(sum<{ n: number }>('n'), [{ n: 1 }, { n: 2 }]))).toBe(3);
    const byFn = sum((o: { p: number; q: number }) => o.p * o.q);
    expect(byFn.getResult(addAll(byFn, [{ p: 2, q: 3 }, { p: 1, q: 1 }]))).toBe(7);
    const agg = sum();
    expect(agg.getResult(addAll(agg, [1, Number.NaN]))).toBeNaN();
    expect(agg.getResult(addAll(agg, [Infinity, 1]))).toBe(Infinity);
    expect(agg.getResult(addAll(agg, [Infinity, -Infinity]))).toBeNaN();
    expect(agg.getResult(agg.merge!(addAll(agg, [Infinity]), addAll(agg, [-Infinity])))).toBeNaN();
  });

  it('throws BAD_RECORD when the field is not a number, INVALID_ARGUMENT for a bad field', () => {
    const agg = sum<{ n: number }>('n');
    expect(() => agg.add({ n: '3' } as unknown as { n: number }, agg.createAccumulator())).toThrow(/BAD_RECORD.*expected a number in field 'n', got "3"/);
    expect(() => sum({} as unknown as 'x')).toThrow(SluiceError);
  });
});

describe('min and max', () => {
  const withNaN = fc.array(fc.oneof({ weight: 20, arbitrary: double }, { weight: 1, arbitrary: fc.constant(Number.NaN) }), { maxLength: 40 });
  describe('min', () => {
    aggregateLaws({ aggregate: () => min(), values: withNaN, reference: (vs) => (vs.length === 0 ? undefined : Math.min(...vs)) });
  });
  describe('max', () => {
    aggregateLaws({ aggregate: () => max(), values: withNaN, reference: (vs) => (vs.length === 0 ? undefined : Math.max(...vs)) });
  });

  it('read fields, order -0 below 0, and are undefined when empty', () => {
    const lo = min<{ t: number }>('t');
    const hi = max((r: { t: number }) => r.t);
    const rs = [{ t: 0 }, { t: -0 }, { t: 3 }];
    expect(lo.getResult(addAll(lo, rs))).toBe(-0);
    expect(hi.getResult(addAll(hi, rs))).toBe(3);
    expect(lo.getResult(lo.createAccumulator())).toBeUndefined();
  });
});

describe('avg', () => {
  aggregateLaws({
    aggregate: () => avg(),
    values: doubles,
    reference: (vs) => (vs.length === 0 ? undefined : exactSumReference(vs) / vs.length),
  });

  it('reads a field', () => {
    const agg = avg<{ ms: number }>('ms');
    expect(agg.getResult(addAll(agg, [10, 20, 60].map((ms) => ({ ms }))))).toBe(30);
  });
});

describe('first and last', () => {
  // Values that may themselves be undefined: `seen` tells them from "nothing added".
  const values = fc.array(fc.oneof(fc.integer(), fc.constant(undefined), fc.string()), { maxLength: 30 });
  describe('first', () => {
    aggregateLaws({ aggregate: () => first<unknown>(), values, reference: (vs) => vs[0] });
  });
  describe('last', () => {
    aggregateLaws({ aggregate: () => last<unknown>(), values, reference: (vs) => vs.at(-1) });
  });

  it('merge(a, b) treats a as the earlier', () => {
    const f = first<string>();
    const l = last<string>();
    expect(f.getResult(f.merge!(addAll(f, ['a', 'b']), addAll(f, ['c'])))).toBe('a');
    expect(l.getResult(l.merge!(addAll(l, ['a', 'b']), addAll(l, ['c'])))).toBe('c');
    expect(l.getResult(l.merge!(addAll(l, ['a']), l.createAccumulator()))).toBe('a');
  });
});
