/**
 * The laws every built-in aggregate is tested against (the `*.test.ts` files beside this one): adding all
 * values gives the batch reference's answer, and merging accumulators built over any split
 * of the input, in any tree of merges, gives the same answer as adding everything to one
 * accumulator. Splits keep order (the left part is the earlier), as windows merge.
 * fast-check prints the seed and the shrunk counterexample of a failure.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { AggregateFunction } from '../../../src/state/types.js';

/** Adds `values` in order to `acc` (a fresh accumulator by default). */
export function addAll<IN, ACC, OUT>(agg: AggregateFunction<IN, ACC, OUT>, values: readonly IN[], acc: ACC = agg.createAccumulator()): ACC {
  for (const v of values) acc = agg.add(v, acc);
  return acc;
}

/** A small deterministic PRNG (mulberry32): the split trees come from a fast-check seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The accumulator of `values` built as a random binary tree of merges: each node splits
 * its slice at a random point (either side may be empty) or, at random or when small,
 * adds the slice to a fresh accumulator.
 */
export function mergeTree<IN, ACC, OUT>(agg: AggregateFunction<IN, ACC, OUT>, values: readonly IN[], random: () => number, leafChance = 0.25): ACC {
  // An empty slice is always a leaf: splitting it again would branch without end.
  if (values.length === 0 || random() < (values.length === 1 ? 0.6 : leafChance)) return addAll(agg, values);
  const cut = Math.floor(random() * (values.length + 1));
  return agg.merge!(mergeTree(agg, values.slice(0, cut), random, leafChance), mergeTree(agg, values.slice(cut), random, leafChance));
}

export interface AggregateLaws<IN, ACC, OUT> {
  aggregate: () => AggregateFunction<IN, ACC, OUT>;
  values: fc.Arbitrary<IN[]>;
  /** The naive batch answer. */
  reference: (values: IN[]) => OUT;
  /** Asserts a result against the reference; default `toEqual` (NaN equals NaN, -0 differs from 0). */
  check?: (actual: OUT, expected: OUT, values: IN[]) => void;
  numRuns?: number;
}

/** Registers the law tests of one aggregate in the current `describe`. */
export function aggregateLaws<IN, ACC, OUT>(laws: AggregateLaws<IN, ACC, OUT>): void {
  const check = laws.check ?? ((actual: OUT, expected: OUT) => expect(actual).toEqual(expected));
  const numRuns = laws.numRuns ?? 200;

  it('adding every value gives the batch answer', () => {
    fc.assert(
      fc.property(laws.values, (values) => {
        const agg = laws.aggregate();
        check(agg.getResult(addAll(agg, values)), laws.reference(values), values);
      }),
      { numRuns },
    );
  });

  it('merging accumulators over any split tree gives the batch answer, and leaves the inputs unchanged', () => {
    fc.assert(
      fc.property(laws.values, fc.integer(), (values, seed) => {
        const agg = laws.aggregate();
        const merge = agg.merge!;
        const random = mulberry32(seed);
        check(agg.getResult(mergeTree(agg, values, random)), laws.reference(values), values);
        // Three-way, both associations, with inputs that must survive unchanged.
        const cut1 = Math.floor(random() * (values.length + 1));
        const cut2 = cut1 + Math.floor(random() * (values.length - cut1 + 1));
        const [a, b, c] = [values.slice(0, cut1), values.slice(cut1, cut2), values.slice(cut2)].map((part) => addAll(agg, part)) as [ACC, ACC, ACC];
        const before = [a, b, c].map((x) => structuredClone(x));
        check(agg.getResult(merge(merge(a, b), c)), laws.reference(values), values);
        check(agg.getResult(merge(a, merge(b, c))), laws.reference(values), values);
        expect([a, b, c]).toEqual(before);
      }),
      { numRuns },
    );
  });

  it('an empty accumulator is neutral in merge', () => {
    fc.assert(
      fc.property(laws.values, (values) => {
        const agg = laws.aggregate();
        const expected = laws.reference(values);
        check(agg.getResult(agg.merge!(agg.createAccumulator(), addAll(agg, values))), expected, values);
        check(agg.getResult(agg.merge!(addAll(agg, values), agg.createAccumulator())), expected, values);
      }),
      { numRuns: Math.ceil(numRuns / 4) },
    );
  });

  it('mergeInto, where given, gives what merge gives, and leaves its second input unchanged', () => {
    const probe = laws.aggregate();
    if (!probe.mergeInto) return;
    fc.assert(
      fc.property(laws.values, fc.nat(), (values, at) => {
        const agg = laws.aggregate();
        const cut = values.length === 0 ? 0 : at % (values.length + 1);
        const b = addAll(agg, values.slice(cut));
        const before = structuredClone(b);
        const merged = agg.mergeInto!(addAll(agg, values.slice(0, cut)), b);
        check(agg.getResult(merged), laws.reference(values), values);
        expect(b).toEqual(before);
      }),
      { numRuns: Math.ceil(numRuns / 4) },
    );
  });
}
