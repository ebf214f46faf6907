/**
 * The records of the on-disk backend: an ordered key-value engine (LMDB or RocksDB,
 * `kv-engine.ts`) behind a bounded write-back cache. Internal to `state/disk/`.
 *
 * - The engine holds the state records (layout in `codec.ts`) and a change log naming
 *   every record key written or deleted since the last checkpoint (for incremental
 *   checkpoints), written in the same atomic write as the records themselves.
 * - The cache maps a record id (the key bytes as a latin1 string) to an {@link Entry}:
 *   the decoded value (or {@link ABSENT}), its expiry, and whether it differs from disk.
 *   Reads that miss go to the engine synchronously and stay cached (absent ones too). Writes
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
import { SluiceError } from '../../errors/index.js';
import { decodeValue, expiryOf, encodeValue, META_BYTE } from './codec.js';
import type { KvEngine } from './kv-engine.js';
import { LmdbEngine } from './lmdb-engine.js';
import { storageFailed } from './storage-errors.js';

export { exactBytes } from './lmdb-engine.js';
export { ioFailed, storageFailed } from './storage-errors.js';

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

/** End of the data records: metadata starts at 0xFF. */
export const DATA_END = Buffer.from([META_BYTE]);
const DATA_START = Buffer.alloc(0);

export class RecordStore {
  /** The engine under the cache: LMDB unless another is given. */
  readonly engine: KvEngine;
  private readonly cache = new Map<string, Entry>();
  private dirtyList: Entry[] = [];
  /** Entries evicted in one round: an eighth of the cache, at least one. */
  private readonly slack: number;
  private sweepFrom: Buffer = DATA_START;
  closed = false;
  /** Reads answered from the cache, and those that went to the engine (metrics). */
  hits = 0;
  misses = 0;
  /** The failure of a write to LMDB: set once, the store refuses all use (see the top of this file). */
  private broken: SluiceError | undefined;

  constructor(
    readonly file: string,
    readonly capacity: number,
    engine?: KvEngine,
  ) {
    this.slack = Math.max(1, Math.floor(capacity / 8));
    this.engine = engine ?? new LmdbEngine(file);
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
      this.hits++;
      return e;
    }
    this.misses++;
    let raw: Buffer | undefined;
    try {
      raw = this.engine.get(Buffer.from(id, 'latin1'));
    } catch (e) {
      throw storageFailed(`a read of the state store at ${this.file}`, e, this.file);
    }
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
    this.write(keys.map((k) => [k, undefined] as const), true);
  }

  /** Writes raw records straight to LMDB (restore), bypassing and invalidating the cache. */
  putRaw(records: ReadonlyArray<readonly [Buffer, Buffer | undefined]>, logChanges = true): void {
    if (records.length === 0) return;
    for (const [k] of records) this.cache.delete(k.toString('latin1', 0, k.length));
    this.write(records, logChanges);
  }

  /** The records in `[start, end)` (copies), after a flush. */
  scan(start: Buffer, end: Buffer, limit?: number): RawRecord[] {
    this.flush();
    return this.engine.range(start, end, limit);
  }

  /** Visits the records in `[start, end)` without collecting them (after a flush). Do not write from `f`. */
  forEach(start: Buffer, end: Buffer, f: (key: Buffer, value: Buffer) => void): void {
    this.flush();
    this.engine.forEach(start, end, f);
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
    for (const { key, value } of this.engine.range(this.sweepFrom, DATA_END, steps)) {
      seen++;
      last = key;
      if (expiryOf(value) > now) continue;
      const e = this.cache.get(key.toString('latin1', 0, key.length));
      if (e !== undefined && e.dirty) continue;
      dead.push(key);
    }
    this.sweepFrom = seen < steps || last === undefined ? DATA_START : Buffer.concat([last, Buffer.from([0])]);
    if (dead.length > 0) {
      for (const k of dead) this.cache.delete(k.toString('latin1', 0, k.length));
      this.write(dead.map((k) => [k, undefined] as const), true);
    }
    return dead.length;
  }

  /** Forgets every cached entry (after a flush, or to drop unwritten changes). */
  dropCache(): void {
    this.cache.clear();
    this.dirtyList = [];
  }

  /** Deletes every record and the change log, and forgets the cache. */
  clear(): void {
    this.dropCache();
    try {
      this.engine.clear();
    } catch (e) {
      throw storageFailed(`clearing the state store at ${this.file}`, e, this.file);
    }
  }

  /**
   * Applies `records` in one atomic engine write, turning failures into STORAGE_FULL
   * (no room left) or STATE_IO_FAILED; after one, the store is broken (every use throws it).
   */
  write(records: ReadonlyArray<readonly [Buffer, Buffer | undefined]>, log: boolean): void {
    if (this.broken !== undefined) throw this.broken;
    try {
      this.engine.write(records, log);
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
    await this.engine.close();
  }

  /** Closes without flushing and deletes the files. */
  async destroy(): Promise<void> {
    this.dropCache();
    if (!this.closed) {
      this.closed = true;
      await this.engine.close();
    }
    await this.engine.destroy();
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
    this.write(
      entries.map((e, i) => [Buffer.from(e.id, 'latin1'), encoded[i]] as const),
      true,
    );
    for (const e of entries) e.dirty = false;
  }
}
