import type { Source } from '../../connectors/source.js';
import { drain, testSourceContext } from '../connector-context.js';
import { vitest } from '../vitest.js';

/** A bounded source under test, and what reading it must give. */
export interface BoundedSourceCase<T> {
  /** Builds a fresh source (files and the like may be prepared first). */
  make: () => Source<T> | Promise<Source<T>>;
  /** The values a full read gives, in order. */
  expected: T[];
}

/**
 * The contract every bounded source keeps, as one suite that each runs (Hono's shared
 * router suite): it names itself, honours `maxBatchSize` at every batch size, reads the
 * same values again from a new reader, keeps saying `done` once done, and closes twice
 * without harm.
 *
 * @example
 * boundedSourceSuite('fromCollection', { make: () => fromCollection([1, 2, 3]), expected: [1, 2, 3] });
 */
export function boundedSourceSuite<T>(name: string, c: BoundedSourceCase<T>): void {
  const { describe, expect, it } = vitest();
  describe(`${name} keeps the bounded source contract`, () => {
    it('says what it is', async () => {
      const source = await c.make();
      expect(source.bounded).toBe(true);
      expect(typeof source.kind).toBe('string');
      expect(source.kind.length).toBeGreaterThan(0);
      expect(typeof source.describe?.()).toBe('string');
    });

    for (const maxBatchSize of [1, 2, 7, 1000]) {
      it(`reads everything in batches of at most ${maxBatchSize}, then stays done`, async () => {
        const source = await c.make();
        const reader = source.createReader(testSourceContext({ maxBatchSize }));
        await reader.open?.();
        const sizes: number[] = [];
        const values: T[] = [];
        for (let polls = 0; ; polls++) {
          expect(polls).toBeLessThan(c.expected.length + 10);
          const batch = await reader.poll();
          sizes.push(batch.values.length);
          values.push(...batch.values);
          if (batch.timestamps) expect(batch.timestamps).toHaveLength(batch.values.length);
          if (batch.done) break;
        }
        expect(values).toEqual(c.expected);
        expect(Math.max(...sizes)).toBeLessThanOrEqual(maxBatchSize);
        expect(await reader.poll()).toMatchObject({ values: [], done: true });
        await reader.close();
        await reader.close();
      });
    }

    it('replays from a new reader', async () => {
      const source = await c.make();
      for (let round = 0; round < 2; round++) {
        const reader = source.createReader(testSourceContext());
        await reader.open?.();
        expect((await drain(reader)).values).toEqual(c.expected);
        await reader.close();
      }
    });
  });
}
