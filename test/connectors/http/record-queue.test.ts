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
});
