import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateLaws, addAll } from './aggregate-suite.js';
import { canonicalString } from '../../../src/window/aggregates/canonical.js';
import { distinctCount } from '../../../src/window/aggregates/index.js';
import { deepEqualValue, distinctReference } from './reference.js';

/** Small domains, so duplicates (and near-duplicates) are common. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, -0, Number.NaN, 1.5, '1', 1n, 2n, true, false, null, undefined, '', 's', 'n1'),
  fc.string({ maxLength: 2 }),
  fc.record({ a: fc.integer({ min: 0, max: 2 }), b: fc.constantFrom('x', 'y', undefined) }, { requiredKeys: [] }),
  fc.array(fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constantFrom('0', ',', '"')), { maxLength: 3 }),
);

describe('canonicalString', () => {
  it('is equal exactly for deep-equal values', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(canonicalString(a) === canonicalString(b)).toBe(deepEqualValue(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores key order and undefined properties, tells types apart', () => {
    expect(canonicalString({ b: 2, a: [1, 'x'] })).toBe('{"a":[n1,"x"],"b":n2}');
    expect(canonicalString({ a: 1, b: undefined })).toBe(canonicalString({ a: 1 }));
    expect(new Set([1, '1', 1n, true, null, undefined, 'sx', 'x'].map(canonicalString)).size).toBe(8);
    expect(canonicalString(-0)).toBe(canonicalString(0));
    expect(canonicalString(new Date(5))).toBe('d5');
    expect(canonicalString(new Map([[2, 'b'], [1, 'a']]))).toBe(canonicalString(new Map([[1, 'a'], [2, 'b']])));
    expect(() => canonicalString(() => 1)).toThrow(/BAD_RECORD/);
  });
});

describe('distinctCount', () => {
  aggregateLaws({ aggregate: () => distinctCount(), values: fc.array(value, { maxLength: 40 }), reference: distinctReference });

  it('reads a property or a function', () => {
    const byPage = distinctCount<{ page: string }>('page');
    expect(byPage.getResult(addAll(byPage, ['/', '/a', '/'].map((page) => ({ page }))))).toBe(2);
    const byPair = distinctCount((e: { a: number; b: number }) => [e.a, e.b]);
    expect(byPair.getResult(addAll(byPair, [{ a: 1, b: 2 }, { a: 2, b: 1 }, { a: 1, b: 2 }]))).toBe(2);
  });
});
