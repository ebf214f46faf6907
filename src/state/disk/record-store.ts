/**
 * The records of the on-disk backend: an LMDB environment behind a bounded write-back
 * cache. Internal to `state/disk/`.
 *
 * - `data` holds the state records (layout in `codec.ts`); `changes` names every record
 *   key written or deleted since the last checkpoint (the change log of incremental
 *   checkpoints), written in the same LMDB transaction as the records themselves.
 * - The cache maps a record id (the key bytes as a latin1 string) to an {@link Entry}:
 *   the decoded value (or {@link ABSENT}), its expiry, and whether it differs from disk.
 *   Reads that miss go to LMDB synchronously and stay cached (absent ones too). Writes
 *   only change the entry; dirty entries reach LMDB when evicted (a batch per eviction
 *   round, one transaction) or on {@link RecordStore.flush}.
 * - Eviction is CLOCK (second chance): an entry used since the last pass is moved to the
 *   back once; the others go. Invariant: an entry returned by `lookup`/`upsert` stays in
 *   the cache until the next `lookup`/`upsert`, so a caller may write into it.
 * - Every scan (keys, namespaces, map iteration, snapshots) first flushes, so that disk
 *   alone is the truth while it reads.
 * - A write to LMDB that fails (a full disk, most often: STORAGE_FULL) breaks the store:
 *   the entries it carried have left the cache already, so every later read or write
 *   throws the same error rather than answer from a cache that lost them. The attempt
 *   fails and restarts from its checkpoint with a new store (`storage-full.test.ts`).
 */
import { closeSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { diskFullCode } from '../../errors/disk-full.js';
import { SluiceError } from '../../errors/index.js';
import { decodeValue, expiryOf, encodeValue, META_BYTE } from './codec.js';

// lmdb is loaded when the first store opens: importing Sluice (and every job that keeps
// its state in memory) then skips its load time (see bench/startup.ts).
const require = createRequire(import.meta.url);

/** The value of an entry that has none (never written, deleted, or expired and deleted). */
export const ABSENT: unique symbol = Symbol('absent');

export interface Entry {
  readonly id: string;
  v: unknown;
  /** Processing time at which the value expires; Infinity: never. */
  t: number;
  dirty: boolean;
  /** Used since the last eviction pass (CLOCK). */
  hot: boolean;
}

/** One raw record of a scan. */
export interface RawRecord {
  key: Buffer;
  value: Buffer;
}

const EMPTY = Buffer.alloc(0);
/** End of the data records: metadata starts at 0xFF. */
export const DATA_END = Buffer.from([META_BYTE]);
const DATA_START = Buffer.alloc(0);

export class RecordStore {
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly data: Database<Buffer, Buffer>;
  readonly changes: Database<Buffer, Buffer>;
  private readonly cache = new Map<string, Entry>();
  private dirtyList: Entry[] = [];
  /** Entries evicted in one round: an eighth of the cache, at least one. */
  private readonly slack: number;
  private sweepFrom: Buffer = DATA_START;
  closed = false;
  /** The failure of a write to LMDB: set once, the store refuses all use (see the top of this file). */
  private broken: SluiceError | undefined;

  constructor(
    readonly file: string,
    readonly capacity: number,
  ) {
    this.slack = Math.max(1, Math.floor(capacity / 8));
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

  /** Number of entries held in memory. */
  get cachedCount(): number {
    return this.cache.size;
  }

  /** The cached entry of `id`, loading it from LMDB on a miss. */
  lookup(id: string): Entry {
    if (this.broken !== undefined) throw this.broken;
    const e = this.cache.get(id);
    if (e !== undefined) {
      e.hot = true;
      return e;
    }
    const raw = exactBytes(this.data.getBinaryFast(Buffer.from(id, 'latin1')));
    const loaded: Entry =
      raw === undefined ? { id, v: ABSENT, t: Infinity, dirty: false, hot: false } : { id, v: decodeValue(raw), t: expiryOf(raw), dirty: false, hot: false };
    this.admit(loaded);
    return loaded;
  }

  /** The cached entry of `id` for a blind write: a miss does not read LMDB. */
  upsert(id: string): Entry {
    if (this.broken !== undefined) throw this.broken;
    const e = this.cache.get(id);
    if (e !== undefined) {
      e.hot = true;
      return e;
    }
    const fresh: Entry = { id, v: ABSENT, t: Infinity, dirty: false, hot: false };
    this.admit(fresh);
    return fresh;
  }

  /** Sets an entry's value and expiry; it reaches LMDB on eviction or flush. */
  set(e: Entry, v: unknown, t: number): void {
    e.v = v;
    e.t = t;
    this.touch(e);
  }

  /** Marks an entry changed (after changing `t` or its value in place). */
  touch(e: Entry): void {
    if (!e.dirty) {
      e.dirty = true;
      this.dirtyList.push(e);
      // Evicted entries were written and are clean: drop them now and then, so the list
      // stays bounded by the cache (every dirty entry is cached).
      if (this.dirtyList.length > 2 * this.capacity + 1024) this.dirtyList = this.dirtyList.filter((d) => d.dirty);
    }
  }

  /** Writes every dirty entry to LMDB (one transaction). */
  flush(): void {
    if (this.dirtyList.length === 0) return;
    const list = this.dirtyList;
    this.dirtyList = [];
    this.writeOut(list.filter((e) => e.dirty));
  }

  /** Drops records straight from LMDB and the cache (after a flush: cached entries are clean). */
  removeNow(keys: readonly Buffer[]): void {
    if (keys.length === 0) return;
    for (const k of keys) this.cache.delete(k.toString('latin1', 0, k.length));
    this.transaction(() => {
      for (const k of keys) {
        this.data.removeSync(k);
        this.changes.putSync(k, EMPTY);
      }
    });
  }

  /** Writes raw records straight to LMDB (restore), bypassing and invalidating the cache. */
  putRaw(records: ReadonlyArray<readonly [Buffer, Buffer | undefined]>, logChanges = true): void {
    if (records.length === 0) return;
    this.transaction(() => {
      for (const [k, v] of records) {
        this.cache.delete(k.toString('latin1', 0, k.length));
        if (v === undefined) this.data.removeSync(k);
        else this.data.putSync(k, v);
        if (logChanges) this.changes.putSync(k, EMPTY);
      }
    });
  }

  /** The records in `[start, end)` (copies), after a flush. */
  scan(start: Buffer, end: Buffer, limit?: number): RawRecord[] {
    this.flush();
    const out: RawRecord[] = [];
    for (const { key, value } of this.data.getRange(limit === undefined ? { start, end } : { start, end, limit })) {
      out.push({ key: Buffer.from(key), value: Buffer.from(value) });
    }
    return out;
  }

  /** Visits the records in `[start, end)` without collecting them (after a flush). Do not write from `f`. */
  forEach(start: Buffer, end: Buffer, f: (key: Buffer, value: Buffer) => void): void {
    this.flush();
    for (const { key, value } of this.data.getRange({ start, end })) f(key, value);
  }

  /**
   * The incremental TTL sweep: checks the next `steps` data records (resuming where the
   * last call stopped, wrapping at the end) and deletes the expired ones from LMDB. A
   * record whose cached entry is dirty is left alone: the cache is newer.
   */
  sweep(now: number, steps: number): number {
    const dead: Buffer[] = [];
    let last: Buffer | undefined;
    let seen = 0;
    for (const { key, value } of this.data.getRange({ start: this.sweepFrom, end: DATA_END, limit: steps })) {
      seen++;
      last = key;
      if (expiryOf(value) > now) continue;
      const e = this.cache.get(key.toString('latin1', 0, key.length));
      if (e !== undefined && e.dirty) continue;
      dead.push(Buffer.from(key));
    }
    this.sweepFrom = seen < steps || last === undefined ? DATA_START : Buffer.concat([last, Buffer.from([0])]);
    if (dead.length > 0) {
      for (const k of dead) this.cache.delete(k.toString('latin1', 0, k.length));
      this.transaction(() => {
        for (const k of dead) {
          this.data.removeSync(k);
          this.changes.putSync(k, EMPTY);
        }
      });
    }
    return dead.length;
  }

  /** Forgets every cached entry (after a flush, or to drop unwritten changes). */
  dropCache(): void {
    this.cache.clear();
    this.dirtyList = [];
  }

  /**
   * Runs `f` in one synchronous write transaction, turning LMDB failures into STORAGE_FULL
   * (no room left) or STATE_IO_FAILED; after one, the store is broken (every use throws it).
   */
  transaction(f: () => void): void {
    if (this.broken !== undefined) throw this.broken;
    try {
      this.root.transactionSync(f);
    } catch (e) {
      this.broken = e instanceof SluiceError ? e : storageFailed(`a write to the state store at ${this.file}`, e, this.file);
      throw this.broken;
    }
  }

  /** Writes the cache out and closes the file; a broken store is closed without writing (its cache is not the state). */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.broken === undefined) this.flush();
    this.closed = true;
    await this.root.close();
  }

  /** Closes without flushing and deletes the files. */
  async destroy(): Promise<void> {
    this.dropCache();
    if (!this.closed) {
      this.closed = true;
      await this.root.close();
    }
    rmSync(this.file, { force: true });
    rmSync(`${this.file}-lock`, { force: true });
  }

  private admit(e: Entry): void {
    this.cache.set(e.id, e);
    if (this.cache.size > this.capacity) this.evict(e);
  }

  /** One CLOCK round: evicts down to capacity minus slack, never `keep`, writing dirty ones in one batch. */
  private evict(keep: Entry): void {
    const target = this.capacity - this.slack;
    const out: Entry[] = [];
    for (const e of this.cache.values()) {
      if (this.cache.size <= target) break;
      if (e === keep) continue;
      this.cache.delete(e.id);
      if (e.hot) {
        e.hot = false;
        this.cache.set(e.id, e); // second chance: to the back
      } else if (e.dirty) out.push(e);
    }
    this.writeOut(out);
  }

  private writeOut(unsorted: readonly Entry[]): void {
    if (unsorted.length === 0) return;
    // In key order: neighbouring puts touch the same B-tree pages (latin1 ids sort as their bytes).
    const entries = [...unsorted].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const encoded: Array<Buffer | undefined> = entries.map((e) => {
      if (e.v === ABSENT) return undefined;
      try {
        return encodeValue(e.v, e.t);
      } catch (err) {
        throw new SluiceError('STATE_NOT_SERIALIZABLE', `a state value could not be written to disk: ${(err as Error).message}`, { cause: err });
      }
    });
    this.transaction(() => {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        const k = Buffer.from(e.id, 'latin1');
        const v = encoded[i];
        if (v === undefined) this.data.removeSync(k);
        else this.data.putSync(k, v);
        this.changes.putSync(k, EMPTY);
        e.dirty = false;
      }
    });
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

export function ioFailed(message: string, cause: unknown): SluiceError {
  return new SluiceError('STATE_IO_FAILED', `${message}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}

/** Below this much free space, an I/O error of a write means the disk is full. */
const FULL_BELOW_BYTES = 1 << 20;

/**
 * The error of `what` (a state store operation on `path`) that failed with `cause`: STORAGE_FULL
 * when the disk has no room (ENOSPC, EDQUOT; or EIO while less than 1 MiB is free: LMDB
 * reports a write the disk cut short as EIO, "short write, filesystem full?" in mdb.c),
 * else STATE_IO_FAILED.
 */
export function storageFailed(what: string, cause: unknown, path: string): SluiceError {
  const code = diskFullCode(cause) ?? (isEio(cause) && freeBytes(path) < FULL_BELOW_BYTES ? 'ENOSPC' : undefined);
  if (code === undefined) return ioFailed(`${what} failed`, cause);
  return new SluiceError('STORAGE_FULL', `${what} found no space left on its disk (${code})`, {
    detail: (cause as Error)?.message ?? String(cause),
    hint: `Free space on the file system of ${path} (or raise the quota), or give the state backend a larger one. The job restarts from its last checkpoint meanwhile, with growing pauses.`,
    cause,
  });
}

function isEio(e: unknown): boolean {
  for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'EIO' || code === 5) return true;
    cause = (cause as Error).cause;
  }
  return false;
}

/** Bytes an unprivileged writer may still use on the file system of `path` (Infinity when it cannot tell). */
function freeBytes(path: string): number {
  try {
    const s = statfsSync(dirname(path));
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
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
