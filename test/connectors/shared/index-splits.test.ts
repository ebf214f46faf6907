import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEED, checkProperty, propertyRuns } from '../../property.js';
import { IndexSplits, initialSplits, redistributeSplits } from '../../../src/connectors/shared/index-splits.js';

/** Reads up to `n` indices from each reader in turn (a reader with fewer hands out what it has). */
function readSome(readers: IndexSplits[], n: readonly number[]): number[] {
  const out: number[] = [];
  readers.forEach((r, j) => {
    for (let k = 0; k < n[j]!; k++) {
      const i = r.take();
      if (i < 0) break;
      out.push(i);
    }
  });
  return out;
}

describe('index splits', () => {
  it('reader i of p hands out i, i + p, …; a position from before splits ({ index }) names its own split', () => {
    const s = new IndexSplits(initialSplits(undefined, { index: 1, parallelism: 3 }), 10);
    expect([s.take(), s.take(), s.take(), s.take()]).toEqual([1, 4, 7, -1]);
    expect(s.remaining).toBe(0);
    expect(initialSplits({ index: 2 }, { index: 1, parallelism: 3 })).toEqual([{ first: 1, stride: 3, next: 2 }]);
  });

  it('a reader with several splits hands out their indices in increasing order', () => {
    const s = new IndexSplits(
      [
        { first: 1, stride: 4, next: 0 },
        { first: 0, stride: 2, next: 1 },
      ],
      12,
    );
    const got: number[] = [];
    for (let i = s.take(); i >= 0; i = s.take()) got.push(i);
    expect(got).toEqual([1, 2, 4, 5, 6, 8, 9, 10]);
    expect(s.share).toBe(0.75);
  });

  it('more readers than splits: the largest are halved, so every reader gets a share', () => {
    // One reader had read 0..9 of 100: the rest goes to 3 readers.
    const positions = [{ splits: [{ first: 0, stride: 1, next: 10 }] }];
    const readers = [0, 1, 2].map((index) => redistributeSplits(positions, { index, parallelism: 3 }, 100).splits);
    expect(readers.every((r) => r.length > 0)).toBe(true);
    const all = readers.flatMap((r) => {
      const s = new IndexSplits(r.map((x) => ({ ...x })), 100);
      const got: number[] = [];
      for (let i = s.take(); i >= 0; i = s.take()) got.push(i);
      return got;
    });
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 90 }, (_, i) => 10 + i));
  });

  it('without a count (an endless generator): splits rescale the same way, none ever done', () => {
    const positions = [{ splits: [{ first: 0, stride: 2, next: 5 }] }, { splits: [{ first: 1, stride: 2, next: 7 }] }];
    const readers = [0, 1, 2].map((index) => new IndexSplits(redistributeSplits(positions, { index, parallelism: 3 }, undefined).splits.map((x) => ({ ...x })), undefined));
    expect(readers.map((r) => r.splits)).toEqual([[{ first: 10, stride: 4, next: 0 }], [{ first: 12, stride: 4, next: 0 }], [{ first: 15, stride: 2, next: 0 }]]);
    const first = readers.map((r) => [r.take(), r.take(), r.take()]);
    expect(first).toEqual([
      [10, 14, 18],
      [12, 16, 20],
      [15, 17, 19],
    ]);
    expect(readers[0]!.remaining).toBe(Number.POSITIVE_INFINITY);
  });

  it(`property (seed ${SEED}): through any chain of rescalings, every index is handed out exactly once`, async () => {
    await checkProperty(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.record({ parallelism: fc.integer({ min: 1, max: 6 }), reads: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 6, maxLength: 6 }) }), { minLength: 1, maxLength: 5 }),
        async (count, stages) => {
          const seen: number[] = [];
          let positions: unknown[] | undefined;
          for (const stage of stages) {
            const p = stage.parallelism;
            const readers = Array.from({ length: p }, (_, index) => {
              const restored = positions === undefined ? undefined : positions.length === p ? positions[index] : redistributeSplits(positions, { index, parallelism: p }, count);
              return new IndexSplits(initialSplits(restored, { index, parallelism: p }), count);
            });
            seen.push(...readSome(readers, stage.reads));
            positions = readers.map((r) => r.position());
          }
          // The last stage reads to the end.
          const last = positions!.map((pos, index) => new IndexSplits(initialSplits(pos, { index, parallelism: positions!.length }), count));
          seen.push(...readSome(last, last.map(() => count)));
          expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
        },
      ),
      propertyRuns(200),
    );
  });
});
