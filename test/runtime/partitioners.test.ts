import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/runtime/batch.js';
import { HashPartitioner } from '../../src/runtime/exchange/partitioners.js';
import type { Output } from '../../src/runtime/output.js';
import { keyGroupOf, subtaskForKeyGroup } from '../../src/state/key-groups.js';
import type { Key } from '../../src/state/types.js';

type Event = { kind: 'batch'; batch: Batch<unknown> } | { kind: 'watermark'; watermark: number } | { kind: 'idle'; idle: boolean } | { kind: 'end' };

/** Outputs that record what they get, one list per subtask. */
function recorders(parallelism: number): { outputs: Output<unknown>[]; got: Event[][] } {
  const got: Event[][] = Array.from({ length: parallelism }, () => []);
  const outputs = got.map(
    (events): Output<unknown> => ({
      emitBatch: (batch) => events.push({ kind: 'batch', batch }),
      emitWatermark: (watermark) => events.push({ kind: 'watermark', watermark }),
      emitIdle: (idle) => events.push({ kind: 'idle', idle }),
      emitEnd: () => events.push({ kind: 'end' }),
    }),
  );
  return { outputs, got };
}

/** The subtask a record should go to, computed the obvious way. */
function expectedSubtask(key: unknown, parallelism: number, maxParallelism: number): number {
  const valid = typeof key === 'string' || typeof key === 'bigint' || (typeof key === 'number' && Number.isFinite(key));
  return valid ? subtaskForKeyGroup(keyGroupOf(key as Key, maxParallelism), parallelism, maxParallelism) : 0;
}

describe('hash partitioner', () => {
  it('sends each record, with its timestamp, to the subtask owning its key group, keeping the order within each subtask (seeded random batches, reference split)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      let x = seed;
      const rnd = (n: number) => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return x % n;
      };
      const parallelism = 2 + rnd(4);
      const maxParallelism = [128, 256, 4096][rnd(3)]!;
      const { outputs, got } = recorders(parallelism);
      const selector = (r: { key: unknown }) => {
        if (r.key === 'throw') throw new Error('bad record');
        return r.key as Key;
      };
      const partitioner = new HashPartitioner(outputs, selector as (v: unknown) => Key, maxParallelism);
      const keyOf = (): unknown => {
        switch (rnd(10)) {
          case 0:
            return `user-${rnd(50)}`;
          case 1:
            return BigInt(rnd(1000));
          case 2:
            return [undefined, null, NaN, Infinity, { id: 1 }, 'throw', -1, 1.5, 2 ** 40][rnd(9)];
          case 3:
            return 65_536 + rnd(10); // just past the small-key table
          default:
            return rnd(70_000);
        }
      };
      const expected: Array<{ values: unknown[]; timestamps: number[] }> = Array.from({ length: parallelism }, () => ({ values: [], timestamps: [] }));
      for (let b = 0; b < 20; b++) {
        // sizes across the reused subtask array's growth (1024, 2048, ...)
        const n = [0, 1, 7, 1024, 1025, 3000][rnd(6)]!;
        const values = Array.from({ length: n }, (_, i) => ({ key: keyOf(), i }));
        const timestamps = values.map((_, i) => (i % 13 === 0 ? NaN : b * 10_000 + i));
        values.forEach((v, i) => {
          const e = expected[expectedSubtask(v.key === 'throw' ? undefined : v.key, parallelism, maxParallelism)]!;
          e.values.push(v);
          e.timestamps.push(timestamps[i]!);
        });
        partitioner.emitBatch({ values, timestamps });
      }
      for (let t = 0; t < parallelism; t++) {
        const batches = got[t]!.map((e) => (e.kind === 'batch' ? e.batch : undefined));
        try {
          expect(batches.every((b) => b !== undefined && b.values.length > 0 && b.values.length === b.timestamps.length)).toBe(true);
          expect(batches.flatMap((b) => b!.values)).toEqual(expected[t]!.values);
          expect(batches.flatMap((b) => b!.timestamps)).toEqual(expected[t]!.timestamps);
        } catch (e) {
          throw new Error(`seed ${seed}, subtask ${t}: ${(e as Error).message}`);
        }
      }
    }
  });

  it('a key selector that throws or returns no valid key sends the record to subtask 0', () => {
    const { outputs, got } = recorders(2);
    const bad = [undefined, null, NaN, -Infinity, { id: 1 }, [1], true];
    const selector = (v: { key: unknown }) => {
      if (v.key === 'throw') throw new Error('no key');
      return v.key as Key;
    };
    const values = [...bad, 'throw'].map((key) => ({ key }));
    new HashPartitioner(outputs, selector as (v: unknown) => Key, 128).emitBatch({ values, timestamps: values.map((_, i) => i) });
    expect(got[1]).toEqual([]);
    expect(got[0]).toEqual([{ kind: 'batch', batch: { values, timestamps: values.map((_, i) => i) } }]);
  });

  it('a batch whose records all go to one subtask goes on as it is; an empty one not at all; control events go to every subtask', () => {
    const { outputs, got } = recorders(3);
    const partitioner = new HashPartitioner(outputs, (v) => v as Key, 128);
    const key = 42;
    const target = expectedSubtask(key, 3, 128);
    const batch = { values: [key, key, key], timestamps: [1, 2, 3] };
    partitioner.emitBatch(batch);
    partitioner.emitBatch({ values: [], timestamps: [] });
    partitioner.emitWatermark(5);
    partitioner.emitIdle(true);
    partitioner.emitEnd();
    const control: Event[] = [{ kind: 'watermark', watermark: 5 }, { kind: 'idle', idle: true }, { kind: 'end' }];
    for (let t = 0; t < 3; t++) {
      if (t === target) {
        expect(got[t]![0]).toEqual({ kind: 'batch', batch });
        expect((got[t]![0] as { batch: unknown }).batch).toBe(batch);
        expect(got[t]!.slice(1)).toEqual(control);
      } else expect(got[t]).toEqual(control);
    }
  });
});
