/**
 * The RocksDB keyed state backend: the on-disk backend (`lmdb-backend.ts`: layout, write-back
 * cache, TTL, incremental checkpoints, the same checkpoint files) on a RocksDB database
 * instead of an LMDB file. Needs the optional peer dependency `@nxtedition/rocksdb`.
 *
 * Which to pick (`npm run bench -- state`, figures in the README's state section): LMDB reads
 * faster (memory-mapped B-tree, no decompression), which is what a keyed step does most;
 * RocksDB (an LSM tree) writes with less amplification and compresses, so it keeps large,
 * write-heavy state in less disk. LMDB stays the default. Checkpoints of either restore into
 * the other (the files hold the records, not the engine's pages).
 *
 * @example
 * const job = new Job({
 *   checkpoints: { interval: '10s' },
 *   stateBackend: ({ clock, maxParallelism }) =>
 *     new RocksDbStateBackend({ clock, maxParallelism, path: mkdtempSync(join(tmpdir(), 'sluice-rocks-')) }),
 * });
 */
import { join } from 'node:path';
import { DiskStateBackend, type DiskStateBackendOptions } from './lmdb-backend.js';
import { RocksDbEngine } from './rocksdb-engine.js';

/** Options of {@link RocksDbStateBackend}: those of the LMDB backend. */
export type RocksDbStateBackendOptions = DiskStateBackendOptions;

/**
 * Keyed state in a RocksDB database (directory `<path>/state.rocks`) behind the on-disk
 * backend's write-back cache. Same semantics and checkpoints as {@link DiskStateBackend}
 * (both pass `testing/backend-suite.ts`).
 *
 * @example
 * const backend = new RocksDbStateBackend({ clock: new SystemClock(), path: './.sluice/state/count' });
 * const count = backend.getState(valueState<number>('count', { defaultValue: 0 }));
 * backend.setCurrentKey('user-1');
 * count.update(count.value()! + 1);
 * const cp = await backend.checkpoint('./.sluice/checkpoints/1/count'); // cp.chain restores it
 */
export class RocksDbStateBackend extends DiskStateBackend {
  constructor(options: RocksDbStateBackendOptions) {
    super(options, (dir) => new RocksDbEngine(join(dir, 'state.rocks')));
  }
}
