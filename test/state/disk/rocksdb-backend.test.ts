import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapState, valueState } from '../../../src/state/descriptors.js';
import { DiskStateBackend } from '../../../src/state/disk/lmdb-backend.js';
import { RocksDbStateBackend } from '../../../src/state/disk/rocksdb-backend.js';
import { describeStateBackend } from '../../../src/testing/index.js';
import { ManualClock } from '../../../src/time/clock.js';
import { diskBackendCases, freshDir, root } from './disk-backend-cases.js';

describeStateBackend('disk (rocksdb)', (clock) => new RocksDbStateBackend({ clock, path: freshDir() }));
// The same suite with a tiny cache: every path through eviction and reload.
describeStateBackend('disk (rocksdb), cache of 3 entries', (clock) => new RocksDbStateBackend({ clock, path: freshDir(), cacheSize: 3 }));

// 25 runs of the differential property: each opens RocksDB databases, tens of milliseconds apiece.
diskBackendCases('disk (rocksdb)', (options) => new RocksDbStateBackend(options), 25);

describe('rocksdb backend beside lmdb', () => {
  it('keeps its state in a RocksDB directory, and its checkpoints restore into the LMDB backend and back', async () => {
    const clock = new ManualClock(0);
    const rocks = new RocksDbStateBackend({ clock, path: freshDir(), cacheSize: 16 });
    expect(existsSync(join(rocks.path, 'state.rocks', 'CURRENT'))).toBe(true);
    const fill = (b: DiskStateBackend, tag: string, n: number): void => {
      const v = b.getState(valueState<string>('v'));
      const m = b.getState(mapState<number, number>('m'));
      for (let i = 0; i < n; i++) {
        b.setCurrentKey(i);
        v.update(`${tag}${i}`);
        m.put(i % 5, i);
      }
    };
    fill(rocks, 'a', 500);
    const full = await rocks.checkpoint(join(root, 'x-cp1'));
    fill(rocks, 'b', 50); // a delta of 50 keys: 50 value and 50 map records
    const delta = await rocks.checkpoint(join(root, 'x-cp2'));
    expect([full.incremental, delta.incremental, delta.records]).toEqual([false, true, 100]);
    const lmdb = new DiskStateBackend({ clock, path: freshDir() });
    await lmdb.restoreCheckpoint(delta.chain);
    expect(lmdb.snapshot()).toEqual(rocks.snapshot());
    const back = new RocksDbStateBackend({ clock, path: freshDir() });
    await back.restoreHandle((await lmdb.checkpointTo(join(root, 'x-cp3'), 3)));
    expect(back.snapshot()).toEqual(rocks.snapshot());
    for (const b of [rocks, lmdb, back]) await b.destroy();
  });
});
