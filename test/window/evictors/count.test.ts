import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import type { TimestampedValue } from '../../../src/window/evictor.js';
import { timeWindow } from '../../../src/window/window.js';
import { countEvictor } from '../../../src/window/evictors/count.js';

const w = timeWindow(0, 100);
const ctx = { currentWatermark: () => 0, currentProcessingTime: () => 0 };
const records = (...values: number[]): TimestampedValue<number>[] => values.map((value, i) => ({ value, timestamp: i }));

describe('countEvictor', () => {
  it('keeps the last n records before the window function runs', () => {
    const e = countEvictor<number>(2);
    expect(e.evictBefore!(records(1, 2, 3, 4), w, ctx).map((r) => r.value)).toEqual([3, 4]);
    expect(e.evictBefore!(records(1, 2), w, ctx).map((r) => r.value)).toEqual([1, 2]);
    expect(e.evictBefore!([], w, ctx)).toEqual([]);
    expect(e.evictAfter!(records(1, 2, 3, 4), w, ctx)).toHaveLength(4);
    expect(e.describe?.()).toBe('keep last 2');
  });

  it('evicts after the window function instead with doEvictAfter', () => {
    const e = countEvictor<number>(1, { doEvictAfter: true });
    expect(e.evictBefore!(records(1, 2, 3), w, ctx)).toHaveLength(3);
    expect(e.evictAfter!(records(1, 2, 3), w, ctx).map((r) => r.value)).toEqual([3]);
  });

  it('rejects n that is not a positive integer', () => {
    for (const n of [0, -2, 2.5, Number.NaN]) expect(() => countEvictor(n)).toThrow(SluiceError);
  });
});
