/**
 * The interval join's per-key buffer: records stay sorted by timestamp (equal timestamps
 * in arrival order), a search finds the first record at or after a time, and expiry drops
 * exactly the leading records it should. Checked against sorting and filtering an array.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEED, checkProperty, propertyRuns } from '../../property.js';
import { dropBefore, firstAtOrAfter, insertByTime, type TimeBuffer } from '../../../src/window/join/time-buffer.js';

describe(`time buffer (seed ${SEED})`, () => {
  it('equals a stable sort of what was inserted; search and expiry agree with a scan', async () => {
    await checkProperty(
      fc.asyncProperty(fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 40 }), fc.integer({ min: -25, max: 25 }), async (times, cut) => {
        const buffer: TimeBuffer<number> = { ts: [], values: [] };
        times.forEach((t, i) => {
          const first = insertByTime(buffer, t, i);
          expect(first).toBe(buffer.values[0] === i);
        });
        const expected = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i);
        expect(buffer.ts).toEqual(expected.map((e) => e.t));
        expect(buffer.values).toEqual(expected.map((e) => e.i));
        const at = firstAtOrAfter(buffer.ts, cut);
        expect(at).toBe(expected.filter((e) => e.t < cut).length);
        const dropped = dropBefore(buffer, (t) => t < cut);
        expect(dropped).toBe(at);
        expect(buffer.values).toEqual(expected.filter((e) => e.t >= cut).map((e) => e.i));
      }),
      propertyRuns(200),
    );
  });
});
