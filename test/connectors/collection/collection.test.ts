import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { describeSource, readAll, testSourceContext } from '../../../src/testing/index.js';
import { fromCollection } from '../../../src/connectors/collection/index.js';

describe('fromCollection', () => {
  it('hands out values in order, at most maxBatchSize per poll, then ends', async () => {
    const ctx = testSourceContext({ maxBatchSize: 2 });
    const reader = fromCollection([1, 2, 3, 4, 5]).createReader(ctx);
    expect(await reader.poll()).toEqual({ values: [1, 2] });
    expect(reader.position()).toEqual({ index: 2 });
    expect(await reader.poll()).toEqual({ values: [3, 4] });
    expect(await reader.poll()).toEqual({ values: [5], done: true });
    expect(await reader.poll()).toEqual({ values: [], done: true });
    await reader.close();
  });

  it('ends at once when empty', async () => {
    const { values, polls } = await readAll(fromCollection([]));
    expect(values).toEqual([]);
    expect(polls).toBe(1);
  });

  it('carries timestamps when asked', async () => {
    const source = fromCollection([{ at: 10 }, { at: 5 }], { timestamps: (v) => v.at });
    const { timestamps } = await readAll(source);
    expect(timestamps).toEqual([10, 5]);
  });

  it('replays a one-shot iterable for every reader', async () => {
    function* gen(): Generator<string> {
      yield 'a';
      yield 'b';
    }
    const source = fromCollection(gen());
    expect((await readAll(source)).values).toEqual(['a', 'b']);
    expect((await readAll(source)).values).toEqual(['a', 'b']);
  });

  it('rejects a timestamp that is not a finite number, naming the record', async () => {
    const source = fromCollection([{ id: 1 }], { timestamps: () => Number.NaN });
    await expect(readAll(source)).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', message: expect.stringContaining('{"id":1}') });
  });

  it('rejects something that is not iterable', () => {
    expect(() => fromCollection(42 as unknown as number[])).toThrow(SluiceError);
  });

  it('describes itself', () => {
    const source = fromCollection(['x']);
    expect(source.kind).toBe('collection');
    expect(source.bounded).toBe(true);
    expect(source.describe()).toBe('collection of 1 value');
  });
});

describeSource<{ id: number; name: string }>('fromCollection', {
  guarantee: 'exactly-once',
  bounded: true,
  badRecords: false, // values in memory: nothing to decode
  make: (id) => ({ id, name: `n${id}` }),
  prepare: async (values) => ({ source: () => fromCollection(values, { timestamps: (r) => r.id }) }),
});
