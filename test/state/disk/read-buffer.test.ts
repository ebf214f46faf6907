import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../../src/state/disk/codec.js';
import { exactBytes, RecordStore } from '../../../src/state/disk/record-store.js';
import type { LmdbEngine } from '../../../src/state/disk/lmdb-engine.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-read-buffer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A data record id (key group 0, state 1), as the backend builds them. */
const id = (n: number): string => '\u0000\u0001' + String(n);

// On Node 24, Buffer#subarray ignores the `length` lmdb sets on its shared read buffer
// (see exactBytes in record-store.ts): a value read with getBinaryFast must be cut to size.
describe('disk backend: reading values out of lmdb’s shared read buffer', () => {
  it('getBinaryFast’s buffer is longer than the value; exactBytes views only the value', async () => {
    const store = new RecordStore(join(root, 'a.mdb'), 8);
    const value = encodeValue({ n: 1 }, Infinity);
    store.putRaw([[Buffer.from(id(1), 'latin1'), value]], false);
    const raw = (store.engine as LmdbEngine).readShared(Buffer.from(id(1), 'latin1'))!;
    expect(raw.length).toBe(value.length);
    expect(raw.byteLength).toBeGreaterThan(value.length); // what Node 24's subarray sees
    const exact = exactBytes(raw)!;
    expect([exact.length, exact.byteLength]).toEqual([value.length, value.length]);
    expect(decodeValue(exact)).toEqual({ n: 1 });
    await store.destroy();
  });

  it('values of any size read back after eviction, a short one after a long one', async () => {
    const store = new RecordStore(join(root, 'b.mdb'), 1);
    const values = [1, 'x'.repeat(3000), { a: [1, 2, 3] }, 'y', 2n ** 70n, new Map([[1, 'z'.repeat(500)]])];
    values.forEach((v, i) => store.set(store.upsert(id(i)), v, i % 2 === 0 ? Infinity : 1e12));
    store.flush();
    store.dropCache();
    for (let i = 0; i < values.length; i++) {
      const e = store.lookup(id(i)); // a miss every time: the cache holds one entry
      expect([e.v, e.t]).toEqual([values[i], i % 2 === 0 ? Infinity : 1e12]);
    }
    await store.destroy();
  });
});
