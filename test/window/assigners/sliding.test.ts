import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { sliding, slidingProcessingTime } from '../../../src/window/assigners/sliding.js';

const ctx = { currentProcessingTime: () => 0 };
const windowsOf = (a: ReturnType<typeof sliding>, ts: number) => a.assignWindows(null, ts, ctx).map((w) => [w.start, w.end]);

describe('sliding windows', () => {
  it('assigns every window of the slide grid that holds the timestamp, latest first', () => {
    const a = sliding(10, 5);
    expect(windowsOf(a, 7)).toEqual([[5, 15], [0, 10]]);
    expect(windowsOf(a, 0)).toEqual([[0, 10], [-5, 5]]);
    expect(windowsOf(a, 9)).toEqual([[5, 15], [0, 10]]);
    expect(windowsOf(a, 10)).toEqual([[10, 20], [5, 15]]);
  });

  it('aligns negative timestamps to the epoch too', () => {
    const a = sliding(10, 5);
    expect(windowsOf(a, -3)).toEqual([[-5, 5], [-10, 0]]);
    expect(windowsOf(a, -5)).toEqual([[-5, 5], [-10, 0]]);
    expect(windowsOf(a, -6)).toEqual([[-10, 0], [-15, -5]]);
  });

  it('shifts the grid by a positive or negative offset', () => {
    expect(windowsOf(sliding(10, 5).withOffset(2), 7)).toEqual([[7, 17], [2, 12]]);
    expect(windowsOf(sliding(10, 5).withOffset(-2), 7)).toEqual([[3, 13], [-2, 8]]);
    expect(windowsOf(sliding(10, 5).withOffset(2), -7)).toEqual([[-8, 2], [-13, -3]]);
    expect(windowsOf(sliding('1d', '1h').withOffset('-30m'), 0)[0]).toEqual([-1_800_000, 84_600_000]);
  });

  it('gives ceil(size / slide) windows per timestamp when the size is a multiple of the slide', () => {
    for (const ts of [-101, -1, 0, 1, 42, 99, 1_000_003]) {
      expect(sliding(60, 20).assignWindows(null, ts, ctx)).toHaveLength(3);
      expect(sliding(60, 60).assignWindows(null, ts, ctx)).toHaveLength(1);
    }
  });

  it('does not require the size to be a multiple of the slide', () => {
    expect(windowsOf(sliding(10, 4), 0)).toEqual([[0, 10], [-4, 6], [-8, 2]]);
    expect(windowsOf(sliding(10, 4), 2)).toEqual([[0, 10], [-4, 6]]);
    // size < slide leaves gaps: a record in a gap belongs to no window (dropped, as in Flink).
    expect(windowsOf(sliding(3, 5), 4)).toEqual([]);
    expect(windowsOf(sliding(3, 5), 6)).toEqual([[5, 8]]);
  });

  it('describes its slicing and defaults for the operator', () => {
    const a = sliding('10s', '4s').withOffset('1s');
    expect(a.slicing).toEqual({ size: 10_000, slide: 4_000, offset: 1_000 });
    expect(a.merging).toBe(false);
    expect(a.isEventTime).toBe(true);
    expect(a.defaultTrigger().kind).toBe('event-time');
    expect(a.describe()).toBe('sliding 10000ms every 4000ms offset 1000ms');
    const p = slidingProcessingTime(10, 5);
    expect(p.isEventTime).toBe(false);
    expect(p.defaultTrigger().kind).toBe('processing-time');
    expect(p.withOffset(1).isEventTime).toBe(false);
    expect(p.describe()).toBe('sliding 10ms every 5ms (processing time)');
  });

  it('is immutable: withOffset returns a new frozen spec', () => {
    const a = sliding(10, 5);
    const b = a.withOffset(1);
    expect(Object.isFrozen(a) && Object.isFrozen(b) && Object.isFrozen(a.slicing)).toBe(true);
    expect(a.offset).toBe(0);
    expect(b.offset).toBe(1);
  });

  it('rejects a slide or size that is not positive, and an offset of a whole slide or more', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SluiceError);
        return (e as SluiceError).code;
      }
      return 'no error';
    };
    expect(code(() => sliding(10, 0))).toBe('INVALID_DURATION');
    expect(code(() => sliding(10, -5))).toBe('INVALID_DURATION');
    expect(code(() => sliding(0, 5))).toBe('INVALID_DURATION');
    expect(code(() => sliding(10, 5).withOffset(5))).toBe('INVALID_ARGUMENT');
    expect(code(() => sliding(10, 5).withOffset('-5ms'))).toBe('INVALID_ARGUMENT');
    expect(code(() => sliding(10, 5).withOffset(4))).toBe('no error');
  });

  it('assigns exactly the aligned windows that hold the timestamp (property)', () => {
    const spec = fc
      .record({ size: fc.integer({ min: 1, max: 1000 }), slide: fc.integer({ min: 1, max: 1000 }), r: fc.double({ min: -0.999, max: 0.999, noNaN: true }) })
      .map(({ size, slide, r }) => ({ size, slide, offset: Math.trunc(r * slide) }));
    fc.assert(
      fc.property(spec, fc.integer({ min: -1e12, max: 1e12 }), ({ size, slide, offset }, ts) => {
        const windows = sliding(size, slide).withOffset(offset).assignWindows(null, ts, ctx);
        for (const w of windows) {
          expect(w.start <= ts && ts < w.end).toBe(true);
          expect(w.end - w.start).toBe(size);
          expect((((w.start - offset) % slide) + slide) % slide).toBe(0);
        }
        // Reference: the k with ts - size < offset + k * slide <= ts.
        const expected = Math.floor((ts - offset) / slide) - Math.floor((ts - size - offset) / slide);
        expect(windows).toHaveLength(expected);
        expect(new Set(windows.map((w) => w.start)).size).toBe(windows.length);
        if (size % slide === 0) expect(windows).toHaveLength(Math.ceil(size / slide));
        else expect([Math.floor(size / slide), Math.ceil(size / slide)]).toContain(windows.length);
      }),
    );
  });
});
