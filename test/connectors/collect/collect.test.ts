import { describe, expect, it } from 'vitest';
import { testSinkContext } from '../../../src/testing/index.js';
import { collectSink } from '../../../src/connectors/collect/index.js';

describe('collectSink', () => {
  it('keeps values and timestamps in arrival order', async () => {
    const out = collectSink<string>();
    const writer = out.sink.createWriter(testSinkContext());
    await writer.write(['a', 'b'], [1, Number.NaN]);
    await writer.write(['c'], [3]);
    expect(out.values).toEqual(['a', 'b', 'c']);
    expect(out.timestamps).toEqual([1, Number.NaN, 3]);
    expect(out.records).toEqual([
      { value: 'a', timestamp: 1 },
      { value: 'b', timestamp: Number.NaN },
      { value: 'c', timestamp: 3 },
    ]);
    expect(out.count).toBe(3);
  });

  it('is itself a sink, and tracks flush and close', async () => {
    const out = collectSink<number>();
    expect(out.sink).toBe(out);
    expect([out.kind, out.describe()]).toEqual(['collect', 'collect (in memory)']);
    const writer = out.createWriter(testSinkContext());
    expect([out.flushed, out.closed]).toEqual([false, false]);
    await writer.flush!();
    await writer.close();
    expect([out.flushed, out.closed]).toEqual([true, true]);
  });

  it('waits for a number of values, or for the end', async () => {
    const out = collectSink<number>();
    const writer = out.createWriter(testSinkContext());
    const two = out.waitFor(2);
    const ten = out.waitFor(10);
    await writer.write([1], [0]);
    await writer.write([2], [0]);
    expect(await two).toEqual([1, 2]);
    await writer.close();
    expect(await ten).toEqual([1, 2]); // the job ended with fewer
  });

  it('stops waiting on abort', async () => {
    const out = collectSink<number>();
    const controller = new AbortController();
    const p = out.waitFor(1, { signal: controller.signal });
    controller.abort();
    expect(await p).toEqual([]);
  });

  it('gathers the writers of one sink in one place, and clears', async () => {
    const out = collectSink<number>();
    await out.createWriter(testSinkContext()).write([1], [0]);
    await out.createWriter(testSinkContext()).write([2], [0]);
    expect(out.values.slice().sort()).toEqual([1, 2]);
    out.clear();
    expect(out.values).toEqual([]);
    expect(out.records).toEqual([]);
  });
});
