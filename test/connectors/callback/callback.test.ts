import { describe, expect, it } from 'vitest';
import { testSinkContext } from '../../../src/testing/index.js';
import { callbackSink } from '../../../src/connectors/callback/index.js';

describe('callbackSink', () => {
  it('calls the function per record, synchronously when it is synchronous', () => {
    const seen: Array<[string, number]> = [];
    const writer = callbackSink<string>((v, ts) => void seen.push([v, ts])).createWriter(testSinkContext());
    expect(writer.write(['a', 'b'], [1, 2])).toBeUndefined();
    expect(seen).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('awaits returned promises one after another, in order', async () => {
    const log: string[] = [];
    const sink = callbackSink<number>(async (n) => {
      log.push(`start ${n}`);
      await new Promise((r) => setTimeout(r, 3 - n));
      log.push(`end ${n}`);
    });
    await sink.createWriter(testSinkContext()).write([0, 1, 2], [0, 0, 0]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('lets an error of the callback propagate, sync or async', async () => {
    const boom = new Error('boom');
    const sync = callbackSink<number>(() => {
      throw boom;
    }).createWriter(testSinkContext());
    expect(() => sync.write([1], [0])).toThrow(boom);
    const later = callbackSink<number>(async (n) => {
      if (n === 2) throw boom;
    }).createWriter(testSinkContext());
    await expect(later.write([1, 2, 3], [0, 0, 0])).rejects.toBe(boom);
  });

  it('describes itself and checks its argument', () => {
    function alertPager(): void {}
    expect(callbackSink(alertPager).describe()).toBe("callback 'alertPager'");
    expect(() => callbackSink(42 as never)).toThrow(/function/);
  });
});
