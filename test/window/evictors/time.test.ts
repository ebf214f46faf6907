import { describe, expect, it } from 'vitest';
import type { Evictor, TimestampedValue } from '../../../src/window/evictor.js';
import { timeWindow } from '../../../src/window/window.js';
import { timeEvictor } from '../../../src/window/evictors/time.js';

const w = timeWindow(0, 100);
const ctx = { currentWatermark: () => 0, currentProcessingTime: () => 0 };
const at = (...timestamps: number[]): TimestampedValue<string>[] => timestamps.map((timestamp) => ({ value: `t${timestamp}`, timestamp }));

describe('timeEvictor', () => {
  it('keeps records newer than the window’s newest timestamp minus keep', () => {
    const e = timeEvictor<string>(10);
    // max 30, cutoff 20: 20 itself is evicted, as in Flink (timestamp <= cutoff goes).
    expect(e.evictBefore!(at(5, 30, 20, 21, 25), w, ctx).map((r) => r.timestamp)).toEqual([30, 21, 25]);
    expect(e.evictBefore!(at(-50, -41, -40), w, ctx).map((r) => r.timestamp)).toEqual([-41, -40]);
    expect(e.evictBefore!([], w, ctx)).toEqual([]);
    expect(e.evictAfter!(at(0, 100), w, ctx)).toHaveLength(2);
    expect(timeEvictor('1m').describe?.()).toBe('keep last 60000ms');
  });

  it('evicts after the window function instead with doEvictAfter', () => {
    const e = timeEvictor<string>('5ms', { doEvictAfter: true });
    expect(e.evictBefore!(at(0, 10), w, ctx)).toHaveLength(2);
    expect(e.evictAfter!(at(0, 10), w, ctx).map((r) => r.timestamp)).toEqual([10]);
  });

  it('leaves a window alone whose first record has no timestamp', () => {
    expect(timeEvictor<string>(1).evictBefore!(at(Number.NaN, 0, 100), w, ctx)).toHaveLength(3);
  });

  it('rejects a keep duration that is not positive', () => {
    expect(() => timeEvictor(0)).toThrow(/longer than zero/);
  });
});

describe('custom evictors', () => {
  it('are plain objects implementing Evictor', () => {
    const noTests: Evictor<{ test?: boolean }> = {
      kind: 'no-tests',
      evictBefore: (records) => records.filter((r) => !r.value.test),
    };
    const kept = noTests.evictBefore!([{ value: { test: true }, timestamp: 1 }, { value: {}, timestamp: 2 }], w, ctx);
    expect(kept).toEqual([{ value: {}, timestamp: 2 }]);
    expect(noTests.evictAfter).toBeUndefined();
  });
});
