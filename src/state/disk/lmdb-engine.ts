/**
 * The LMDB engine of the on-disk backend (`kv-engine.ts`): the records in the database
 * `state`, the change log in the database `changes` of the same environment, written in
 * the same transaction. A checkpoint view is an LMDB read transaction (MVCC: later writes
 * do not disturb it). Internal to `state/disk/`.
 */
import { closeSync, openSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Database, RootDatabase } from 'lmdb';
import type { CheckpointView, KvEngine, KvRecord, KvWrite } from './kv-engine.js';
import { storageFailed } from './storage-errors.js';

// lmdb is loaded when the first store opens: importing Sluice (and every job that keeps
// its state in memory) then skips its load time (see bench/startup.ts).
const require = createRequire(import.meta.url);
const EMPTY = Buffer.alloc(0);

export class LmdbEngine implements KvEngine {
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly data: Database<Buffer, Buffer>;
  private readonly changes: Database<Buffer, Buffer>;

  constructor(readonly file: string) {
    allocateLockFile(`${file}-lock`);
    try {
      // noSync: durability comes from checkpoints; a process crash still leaves a
      // consistent file (LMDB only risks the last transactions on an OS crash).
      this.root = (require('lmdb') as typeof import('lmdb')).open<Buffer, Buffer>({ path: file, maxDbs: 4, noSync: true, noMemInit: true, cache: false, encoding: 'binary', keyEncoding: 'binary' });
      this.data = this.root.openDB<Buffer, Buffer>({ name: 'state', encoding: 'binary', keyEncoding: 'binary', cache: false });
      this.changes = this.root.openDB<Buffer, Buffer>({ name: 'changes', encoding: 'binary', keyEncoding: 'binary', cache: false });
    } catch (e) {
      throw storageFailed(`opening the state store at ${file}`, e, file);
    }
  }

  /** lmdb's shared read buffer as `getBinaryFast` gives it, uncut (for the test that pins {@link exactBytes}). @internal */
  readShared(key: Buffer): Buffer | undefined {
    return this.data.getBinaryFast(key);
  }

  get(key: Buffer): Buffer | undefined {
    return exactBytes(this.data.getBinaryFast(key));
  }

  write(records: ReadonlyArray<KvWrite>, log: boolean): void {
    this.root.transactionSync(() => {
      for (const [k, v] of records) {
        if (v === undefined) this.data.removeSync(k);
        else this.data.putSync(k, v);
        if (log) this.changes.putSync(k, EMPTY);
      }
    });
  }

  range(start: Buffer, end: Buffer, limit?: number): KvRecord[] {
    const out: KvRecord[] = [];
    for (const { key, value } of this.data.getRange(limit === undefined ? { start, end } : { start, end, limit })) {
      out.push({ key: Buffer.from(key), value: Buffer.from(value) });
    }
    return out;
  }

  forEach(start: Buffer, end: Buffer, f: (key: Buffer, value: Buffer) => void): void {
    for (const { key, value } of this.data.getRange({ start, end })) f(key, value);
  }

  clear(): void {
    this.data.clearSync();
    this.changes.clearSync();
  }

  beginCheckpoint(full: boolean): CheckpointView {
    const txn = this.root.useReadTransaction(); // the state at the barrier
    try {
      this.changes.clearSync(); // the read transaction still sees the old log; the new one starts empty
    } catch (e) {
      txn.done();
      throw e;
    }
    const { data, changes } = this;
    return {
      next(start, end, after, limit) {
        const from = after === undefined ? start : Buffer.concat([after, Buffer.from([0])]);
        const out: Array<[Buffer, Buffer | undefined]> = [];
        const source = full ? data : changes;
        for (const { key, value } of source.getRange({ start: from, ...(end ? { end } : {}), limit, transaction: txn })) {
          out.push([Buffer.from(key), full ? Buffer.from(value) : undefined]);
        }
        if (!full) for (const r of out) r[1] = data.get(r[0], { transaction: txn }) as Buffer | undefined;
        return out;
      },
      done: () => txn.done(),
    };
  }

  diskBytes(): number {
    try {
      return statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  async destroy(): Promise<void> {
    rmSync(this.file, { force: true });
    rmSync(`${this.file}-lock`, { force: true });
  }
}

/**
 * A view of exactly the value's bytes in the buffer `getBinaryFast` returned, without copying.
 * That buffer is lmdb's shared read buffer (4 KiB or more): lmdb shadows its `length` with an
 * own property set to the value's size, but its real (internal) length is the whole buffer.
 * Node 24's `Buffer#subarray` takes the internal length (Node 20 and 22 took `this.length`),
 * so `decodeValue`'s subarray ran to the end of the shared buffer and msgpackr threw "Data
 * read, but end of buffer not reached". Pinned on every Node by test/state/disk/read-buffer.test.ts,
 * and on Node 24 by test/checkpoint/disk-handle-restore.test.ts. Valid until the next LMDB read.
 */
export function exactBytes(raw: Buffer | undefined): Buffer | undefined {
  return raw === undefined ? undefined : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
}

/** Bytes of the lock file written out before LMDB opens it: more than it needs (8,272 bytes with lmdb 3.5's 126 readers). */
const LOCK_FILE_BYTES = 16 * 1024;

/**
 * Writes a new lock file out with real zeros before LMDB opens it. LMDB sizes its lock
 * file with ftruncate and writes into it through a shared memory map: on a full disk the
 * first touch of a page the file system cannot allocate is a SIGBUS that kills the process
 * (tmpfs; a sparse page of any file system alike). Written here, a full disk is an error
 * to report instead (STORAGE_FULL). LMDB keeps a lock file larger than it needs as it is
 * (more reader slots), and initialises it when it opens it first. An existing lock file
 * (a reopened store) is left alone.
 */
function allocateLockFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw storageFailed(`creating the lock file ${path}`, e, path);
  }
  try {
    const zeros = Buffer.alloc(LOCK_FILE_BYTES);
    let off = 0;
    while (off < zeros.length) off += writeSync(fd, zeros, off, zeros.length - off);
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    throw storageFailed(`writing the lock file ${path}`, e, path);
  }
  closeSync(fd);
}
