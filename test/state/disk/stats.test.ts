import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { valueState } from '../../../src/state/descriptors.js';
import { DiskStateBackend } from '../../../src/state/disk/lmdb-backend.js';
import { RocksDbStateBackend } from '../../../src/state/disk/rocksdb-backend.js';
import { ManualClock } from '../../../src/time/clock.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-state-stats-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each([
  ['lmdb', (path: string) => new DiskStateBackend({ clock: new ManualClock(0), path, cacheSize: 8 })],
  ['rocksdb', (path: string) => new RocksDbStateBackend({ clock: new ManualClock(0), path, cacheSize: 8 })],
])('%s backend stats (the figures behind sluice_state_cache_* and sluice_state_disk_bytes)', (_name, make) => {
  it('counts reads the cache answered and reads that went to the store, and the bytes of its files', async () => {
    const b = make(join(root, _name));
    const v = b.getState(valueState<number>('v'));
    for (let i = 0; i < 100; i++) {
      b.setCurrentKey(i);
      v.update(i); // blind writes: no read
    }
    expect(b.stats()).toMatchObject({ cacheHits: 0, cacheMisses: 0 });
    b.setCurrentKey(99);
    v.value(); // still cached: the last written
    b.setCurrentKey(0);
    v.value(); // evicted long ago: read from the store
    v.value(); // now cached
    b.flush();
    const s = b.stats();
    expect([s.cacheHits, s.cacheMisses]).toEqual([2, 1]);
    expect(s.diskBytes).toBeGreaterThan(0);
    await b.destroy();
  });
});
