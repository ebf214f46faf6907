import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordQueue } from '../../../src/connectors/http/record-queue.js';

describe('RecordQueue', () => {
  it('takes groups all or nothing and hands items out in order', () => {
    const q = new RecordQueue<number>(4);
    expect(q.offerAll([1, 2, 3])).toBe(true);
    expect(q.offerAll([4, 5])).toBe(false);
    expect(q.size).toBe(3);
    expect(q.offerAll([4])).toBe(true);
    expect(q.take(2)).toEqual([1, 2]);
    expect(q.free).toBe(2);
    expect(q.take(10)).toEqual([3, 4]);
    expect(q.take(10)).toEqual([]);
  });

  it('behaves like a plain array with a bound (property)', () => {
    fc.assert(
      fc.property(fc.nat(20).map((n) => n + 1), fc.array(fc.oneof(fc.array(fc.integer(), { maxLength: 8 }), fc.nat(10))), (capacity, ops) => {
        const q = new RecordQueue<number>(capacity);
        const model: number[] = [];
        for (const op of ops) {
          if (Array.isArray(op)) {
            const fits = model.length + op.length <= capacity;
            expect(q.offerAll(op)).toBe(fits);
            if (fits) model.push(...op);
          } else {
            expect(q.take(op)).toEqual(model.splice(0, op));
          }
          expect(q.size).toBe(model.length);
        }
      }),
    );
  });

  it('is bounded in bytes too, spreads the bytes of a group over its records, and gives them back as they are taken', () => {
    const q = new RecordQueue<string>(10, 100);
    expect(q.offerAll(['a', 'b', 'c'], 60)).toBe(true);
    expect(q.offerAll(['d'], 41)).toBe(false); // 101 bytes: over, nothing taken
    expect(q.bytes).toBe(60);
    expect(q.reserve(0, 40)).toBe(true); // a body still arriving holds its bytes
    expect(q.offerAll(['d'], 1)).toBe(false);
    q.release(0, 40);
    expect(q.take(1)).toEqual(['a']);
    expect(q.bytes).toBe(40); // a third of the group's 60
    expect(q.take(5)).toEqual(['b', 'c']);
    expect(q.bytes).toBe(0);
  });

  it('counts reserved places in size but hands out only filled ones (ready)', () => {
    const q = new RecordQueue<number>(5, 50);
    expect(q.reserve(2, 10)).toBe(true);
    expect(q.offerAll([1], 5)).toBe(true);
    expect([q.size, q.ready, q.bytes]).toEqual([3, 1, 15]);
    expect(q.take(10)).toEqual([1]);
    q.fill([2, 3], 10, true);
    expect([q.size, q.ready, q.bytes]).toEqual([2, 2, 10]);
    q.fill([4, 5, 6, 7], 80, false); // replay after a restart: beyond both bounds
    expect([q.size, q.free, q.bytes]).toEqual([6, -1, 90]);
    expect(q.take(10)).toEqual([2, 3, 4, 5, 6, 7]);
    expect([q.size, q.bytes]).toEqual([0, 0]);
  });

  it('keeps its byte accounting within its groups whatever the takes (property)', () => {
    const op = fc.oneof(fc.record({ items: fc.array(fc.integer(), { maxLength: 6 }), bytes: fc.nat(40) }), fc.nat(8));
    fc.assert(
      fc.property(fc.nat(120).map((n) => n + 1), fc.array(op), (maxBytes, ops) => {
        const q = new RecordQueue<number>(30, maxBytes);
        // Each queued group: its records not yet taken, how many it had, its bytes.
        const model: Array<{ items: number[]; size: number; bytes: number }> = [];
        for (const o of ops) {
          if (typeof o === 'number') {
            const expected: number[] = [];
            while (expected.length < o && model.length > 0) {
              const g = model[0]!;
              expected.push(...g.items.splice(0, o - expected.length));
              if (g.items.length === 0) model.shift();
            }
            expect(q.take(o)).toEqual(expected);
          } else {
            const before = q.bytes;
            const records = model.reduce((n, g) => n + g.items.length, 0);
            const fits = records + o.items.length <= 30 && before + o.bytes <= maxBytes;
            expect(q.offerAll(o.items, o.bytes)).toBe(fits);
            if (fits && o.items.length > 0) model.push({ items: [...o.items], size: o.items.length, bytes: o.bytes });
          }
          // Between what whole groups hold and what every group with records left held.
          const whole = model.filter((g) => g.items.length === g.size).reduce((n, g) => n + g.bytes, 0);
          const any = model.reduce((n, g) => n + g.bytes, 0);
          expect(q.bytes).toBeGreaterThanOrEqual(whole);
          expect(q.bytes).toBeLessThanOrEqual(any);
          expect(q.bytes).toBeLessThanOrEqual(maxBytes);
          if (model.length === 0) expect(q.bytes).toBe(0);
        }
      }),
    );
  });
});
