import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { aggregateLaws, addAll, mergeTree, mulberry32 } from './aggregate-suite.js';
import { percentiles } from '../../../src/window/aggregates/index.js';
import { quantileReference } from './reference.js';
import type { TDigest } from '../../../src/window/aggregates/t-digest.js';

const QS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];

/** How far `q` is from the ranks that `estimate` holds in the sorted data (0 when it is one of them). */
function rankError(sorted: Float64Array, estimate: number, q: number): number {
  const n = sorted.length;
  const below = lowerBound(sorted, estimate);
  const atOrBelow = upperBound(sorted, estimate);
  // Ranks as type-7 positions: value at index i has quantile i / (n - 1).
  const lo = Math.max(0, below - 1) / (n - 1);
  const hi = Math.max(0, atOrBelow - 1) / (n - 1);
  return q < lo ? lo - q : q > hi ? q - hi : 0;
}
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const distributions: Record<string, (random: () => number) => number> = {
  uniform: (r) => r() * 1000,
  normal: (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()),
  lognormal: (r) => Math.exp(2 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
  'few distinct': (r) => Math.floor(r() * 20),
  sorted: () => 0, // replaced by the index below
};

describe('percentiles', () => {
  describe('exact below 2·compression/π values, whatever the merges', () => {
    aggregateLaws({
      aggregate: () => percentiles(QS),
      values: fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -3, max: 3 })), { maxLength: 63 }),
      reference: (vs) => {
        const sorted = vs.slice().sort((a, b) => a - b);
        return QS.map((q) => quantileReference(sorted, q));
      },
    });
  });

  it.each(Object.keys(distributions))('keeps the rank error under 1%% at compression 100 over 100k values, merged in any tree (%s)', (name) => {
    const stats: number[] = [];
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const random = mulberry32(seed);
        const n = 100_000;
        const values = Array.from({ length: n }, (_, i) => (name === 'sorted' ? i : distributions[name]!(random)));
        const sorted = Float64Array.from(values).sort();
        const agg = percentiles(QS);
        const whole = agg.getResult(addAll(agg, values));
        const merged = agg.getResult(mergeTree(agg, values, random, 0.1));
        for (const estimates of [whole, merged]) {
          QS.forEach((q, i) => {
            const error = rankError(sorted, estimates[i]!, q);
            stats.push(error);
            expect(error, `q=${q}: estimate ${estimates[i]}`).toBeLessThanOrEqual(0.01);
          });
          expect(estimates[0]).toBe(sorted[0]);
          expect(estimates.at(-1)).toBe(sorted[n - 1]);
        }
      }),
      { numRuns: 3 },
    );
    console.log(`t-digest δ=100, 100k ${name}: max rank error ${(100 * Math.max(...stats)).toFixed(3)}%, mean ${((100 * stats.reduce((a, b) => a + b, 0)) / stats.length).toFixed(3)}%`);
  }, 120_000);

  it('stays small and serialises to JSON', () => {
    const agg = percentiles<{ ms: number }>('ms', [0.5, 0.99]);
    const random = mulberry32(7);
    const acc = addAll(
      agg,
      Array.from({ length: 50_000 }, () => ({ ms: random() * 100 })),
    );
    const digest = agg.merge!(acc, agg.createAccumulator());
    expect(digest.means.length).toBeLessThanOrEqual(100);
    const restored = JSON.parse(JSON.stringify(acc)) as TDigest;
    expect(agg.getResult(restored)).toEqual(agg.getResult(acc));
  });

  it('gives NaN for each quantile when empty, reads fields, skips NaN and infinities', () => {
    expect(percentiles([0.5, 0.9]).getResult(percentiles([0.5]).createAccumulator())).toEqual([Number.NaN, Number.NaN]);
    const byField = percentiles<{ ms: number }>('ms', [0.5, 1]);
    expect(byField.getResult(addAll(byField, [5, 1, 3].map((ms) => ({ ms }))))).toEqual([3, 5]);
    const byFn = percentiles((r: { s: number }) => r.s * 1000, [0.5]);
    expect(byFn.getResult(addAll(byFn, [{ s: 1 }, { s: 2 }]))).toEqual([1500]);
    const plain = percentiles(undefined, [0, 1]);
    expect(plain.getResult(addAll(plain, [2, Number.NaN, Infinity, -Infinity, 1]))).toEqual([1, 2]);
  });

  it('rejects no quantiles, quantiles outside [0, 1], and a compression that is not > 0', () => {
    expect(() => percentiles([])).toThrow(/INVALID_ARGUMENT/);
    for (const q of [-0.1, 1.5, Number.NaN]) expect(() => percentiles([0.5, q])).toThrow(/INVALID_ARGUMENT.*outside \[0, 1\]/);
    for (const compression of [0, -5, Number.NaN, Infinity]) expect(() => percentiles([0.5], { compression })).toThrow(SluiceError);
    expect(() => percentiles([0.5], { compression: 0 })).toThrow(/INVALID_ARGUMENT.*compression/);
  });
});
