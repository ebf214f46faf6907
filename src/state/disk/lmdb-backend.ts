/**
 * The on-disk keyed state backend: state in an LMDB file, for state larger than memory.
 *
 * Why LMDB: on the access pattern of a keyed operator (a synchronous random read and a
 * write per record, writes batched, key-group range scans on rescale) it measured several
 * times faster than LevelDB (classic-level) for reads and scans, has a synchronous `get`
 * (rocksdb-native is async-only), and ships prebuilt binaries (`bench/state-stores.ts`).
 * Its data is memory-mapped, off the JavaScript heap: the heap holds only the cache.
 *
 * ## Layout
 * One record per (state, key, namespace) slot, and one per map entry for map state, under
 * a binary key `[key group u16 BE][state id u16 BE][key][namespace][map key]` (`codec.ts`).
 * A key group is one contiguous range, so rescaling reads ranges. Values are msgpack with
 * the expiry in front (`[flag][f64 expiresAt][msgpack]`), so TTL checks need no decoding.
 *
 * ## Hot path
 * A bounded write-back cache of decoded entries (`record-store.ts`, CLOCK eviction, default
 * 100,000 entries) sits in front of LMDB. A read that misses is a synchronous LMDB get; a
 * write changes the cached entry; dirty entries go to LMDB in one transaction per eviction
 * round (an eighth of the cache) or at a flush. Scans (keys, namespaces, size, map
 * iteration, snapshots) flush first, then read LMDB.
 *
 * ## TTL
 * Expiry is stored with every value and checked on every read: an expired value is never
 * returned, and is deleted when met. Keys never touched again are removed by an
 * incremental sweep: each TTL'd write earns two records of sweep, run in rounds of 64
 * over the whole file, resuming where the last round stopped.
 *
 * ## Incremental checkpoints
 * Every write to LMDB also records its key in a second LMDB database, `changes`, in the
 * same transaction (so the log costs nothing per record, only per flushed batch).
 * {@link DiskStateBackend.checkpoint} then:
 * 1. flushes the cache and opens an LMDB read transaction: a consistent snapshot of the
 *    state at the call, which later writes do not disturb (LMDB is MVCC);
 * 2. empties `changes` (a new log starts for the next checkpoint);
 * 3. writes, from the snapshot, either every record (a full file) or only the records
 *    named in the old log (a delta file; deleted ones as tombstones), in chunks that yield
 *    to the event loop, so the operator may go on processing meanwhile.
 * The first checkpoint (and the first after a restore or failure) is full, then one in
 * `fullEvery` (default 10). A checkpoint is restored from its chain: the last full file
 * and the deltas after it, in order (`chain` in the result). File format:
 * `checkpoint-files.ts`.
 *
 * ## What the checkpoint layer calls
 * - `checkpointTo(dir, id)` at the barrier (`KeyedStateBackend.checkpointTo`): `KeyedScope`
 *   gives a fresh directory under the checkpoint storage's `shared/<subtask>/`, and the
 *   job's checkpoint stores only the returned handle (chain, directories); retention keeps
 *   a directory while a retained checkpoint lists it (`checkpoint/shared-state.ts`).
 *   It calls `checkpoint(dir)`, which returns `{ files, bytes, incremental, chain, records }`.
 * - `restoreHandle(handle, keyGroups?)` / `restoreCheckpoint(chain, keyGroups?)` on a fresh
 *   backend, once per old subtask whose key groups overlap the new range (rescaling).
 * - `snapshot()`/`restore()` still work (plain data, the same columns as the memory
 *   backend's, `snapshot-format.ts`; restore also takes 0.1.0 entries): savepoints and
 *   moving between backends.
 * - `close()` flushes and closes (the files stay: a backend reopened on the same path
 *   has the same state); `dispose()` drops all state; `destroy()` also deletes the files.
 *
 * @example
 * const backend = new DiskStateBackend({ clock: new SystemClock(), path: './.sluice/state/count' });
 * const count = backend.getState(valueState<number>('count', { defaultValue: 0 }));
 * backend.setCurrentKey('user-1');
 * count.update(count.value()! + 1);
 * const cp = await backend.checkpoint('./.sluice/checkpoints/1/count'); // cp.chain restores it
 */
import { mkdirSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { SluiceError } from '../../errors/index.js';
import { checkDeclaration, incompatibleKind, type Declared } from '../declarations.js';
import type { Clock } from '../../time/clock.js';
import { checkMaxParallelism, DEFAULT_MAX_PARALLELISM, keyGroupOf } from '../key-groups.js';
import { outsideKey } from '../memory-states.js';
import type { StateKind } from '../types.js';
import { checkStateSnapshot, ColumnsBuilder, forEachEntry } from '../snapshot-format.js';
import type { Key, KeyedStateBackend, KeyedStateHandle, StateBackendStats, KeyedStateSnapshot, Namespace, StateColumns, StateDescriptor, StateOf } from '../types.js';
import { FrameWriter, readFrames } from './checkpoint-files.js';
import { decodeMapKey, decodeRecordKey, decodeValue, encodeKey, encodeMapKey, encodeNamespace, encodeValue, expiryOf, META_BYTE, u16 } from './codec.js';
import {
  DiskAggregatingState,
  DiskKeyContext,
  DiskListState,
  DiskMapState,
  DiskReducingState,
  DiskTable,
  DiskValueState,
  rangeEnd,
} from './disk-states.js';
import type { KvEngine } from './kv-engine.js';
import { DATA_END, RecordStore, storageFailed } from './record-store.js';

/** Options of {@link DiskStateBackend}. */
export interface DiskStateBackendOptions {
  /** Processing time for TTL. */
  clock: Clock;
  /** Directory of this backend's files (created if missing; one backend per directory). */
  path: string;
  /** Number of key groups; must match the file and the snapshots restored. Default {@link DEFAULT_MAX_PARALLELISM}. */
  maxParallelism?: number;
  /** Entries kept decoded in memory (the write-back cache). Default 100,000. */
  cacheSize?: number;
  /** One checkpoint in this many is full, the others deltas. Default 10. */
  fullEvery?: number;
}

/** What {@link DiskStateBackend.checkpoint} wrote. */
export interface DiskCheckpoint {
  /** Files written by this checkpoint (absolute or as `dir` was given). */
  files: string[];
  /** Bytes written by this checkpoint. */
  bytes: number;
  /** True when only records changed since the previous checkpoint were written. */
  incremental: boolean;
  /** Every file needed to restore this checkpoint, in order: a full file, then deltas. */
  chain: string[];
  /** Records (and tombstones) written. */
  records: number;
}

const META_PREFIX = String.fromCharCode(META_BYTE, META_BYTE);
const STATE_META = META_PREFIX + 's';
const MAXP_META = META_PREFIX + 'p';
const META_START = Buffer.from([META_BYTE]);
/** Records per batch when copying (restore, checkpoints). */
const BATCH = 10_000;
const SWEEP_ROUND = 64;


/**
 * Keyed state in an LMDB file behind a write-back cache. Same semantics as
 * {@link MemoryStateBackend} (both pass `testing/backend-suite.ts`), plus persistence, bounded
 * memory and incremental checkpoints. The comment at the top of `state/disk/lmdb-backend.ts`
 * gives the design.
 *
 * @example
 * // Each call gets a directory of its own (a step's subtask, in one attempt).
 * const job = new Job({
 *   checkpoints: { interval: '10s' },
 *   stateBackend: ({ clock, maxParallelism }) =>
 *     new DiskStateBackend({ clock, maxParallelism, path: mkdtempSync(join(tmpdir(), 'sluice-state-')) }),
 * });
 */
export class DiskStateBackend implements KeyedStateBackend {
  readonly maxParallelism: number;
  readonly clock: Clock;
  /**
   * @internal The LMDB file and cache (this backend is the `DiskHost` of its states). Left
   * out of the published declarations: they would name lmdb's types, whose declaration
   * file does not compile in a strict ES module project.
   */
  readonly store: RecordStore;
  readonly path: string;
  private readonly ctx = new DiskKeyContext();
  private readonly tables = new Map<string, DiskTable>();
  private readonly declared = new Map<string, Declared>();
  private nextId = 1;
  private sweepCredit = 0;
  protected readonly fullEvery: number;
  private chain: string[] = [];
  private sinceFull = 0;

  /** `engine` (internal): the store under the cache, made for this backend's directory; LMDB when absent. */
  constructor(options: DiskStateBackendOptions, engine?: (dir: string) => KvEngine) {
    if (options?.clock === undefined || typeof options.path !== 'string' || options.path === '') {
      throw new SluiceError('INVALID_ARGUMENT', 'DiskStateBackend needs a clock and a path', { hint: 'Pass { clock, path } (path: a directory for this backend alone).' });
    }
    this.clock = options.clock;
    this.path = options.path;
    this.maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    checkMaxParallelism(this.maxParallelism);
    const cacheSize = options.cacheSize ?? 100_000;
    if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new SluiceError('INVALID_ARGUMENT', `cacheSize ${cacheSize} must be a positive integer`);
    this.fullEvery = options.fullEvery ?? 10;
    if (!Number.isInteger(this.fullEvery) || this.fullEvery < 1) throw new SluiceError('INVALID_ARGUMENT', `fullEvery ${this.fullEvery} must be a positive integer`);
    try {
      mkdirSync(options.path, { recursive: true });
    } catch (e) {
      throw storageFailed(`creating the state directory ${options.path}`, e, options.path);
    }
    this.store = engine === undefined ? new RecordStore(join(options.path, 'state.mdb'), cacheSize) : new RecordStore(options.path, cacheSize, engine(options.path));
    this.loadRegistry();
  }

  // ---- the KeyedStateBackend interface ----

  setCurrentKey(key: Key): void {
    if (key === this.ctx.key) return;
    this.ctx.kg = u16(keyGroupOf(key, this.maxParallelism));
    this.ctx.keyPart = encodeKey(key);
    this.ctx.key = key;
  }

  getCurrentKey(): Key {
    const key = this.ctx.key;
    if (key === undefined) throw new SluiceError('STATE_OUTSIDE_KEY', 'there is no current key');
    return key;
  }

  setCurrentNamespace(namespace: Namespace | undefined): void {
    if (namespace === this.ctx.namespace && namespace !== undefined) return;
    this.ctx.namespace = namespace;
    this.ctx.nsPart = encodeNamespace(namespace);
  }

  getState<D extends StateDescriptor>(descriptor: D): StateOf<D> {
    this.checkOpen();
    const { name, ttlMs, updateOn, existing } = checkDeclaration(descriptor, this.declared);
    if (existing !== undefined) return existing as StateOf<D>;
    const known = this.tables.get(name);
    if (known !== undefined && known.kind !== descriptor.kind) throw incompatibleKind(name, known.kind, descriptor.kind);
    const table = known ?? this.register(name, descriptor.kind);
    table.ttlMs = ttlMs;
    table.refreshOnRead = updateOn === 'read-and-write';
    if (table.pendingBind) this.bind(table);
    const state = this.createState(descriptor, table);
    this.declared.set(name, { state, kind: descriptor.kind, ttlMs, updateOn });
    return state as StateOf<D>;
  }

  keys(stateName: string): Key[] {
    const table = this.tables.get(stateName);
    if (table === undefined) return [];
    const out: Key[] = [];
    let last = '';
    this.scanState(table, (key, _value, d) => {
      const keyPart = key.toString('latin1', 4, d.nsAt); // a key's records are adjacent
      if (keyPart !== last) {
        last = keyPart;
        out.push(d.key);
      }
    });
    return out;
  }

  namespaces(stateName: string): Namespace[] {
    const key = this.ctx.key;
    if (key === undefined) throw outsideKey(stateName);
    const table = this.tables.get(stateName);
    if (table === undefined) return [];
    const out = new Set<Namespace>();
    const prefix = Buffer.from(this.ctx.kg + table.idPart + this.ctx.keyPart, 'latin1');
    this.scanLive(prefix, rangeEnd(prefix), (_key, _value, d) => {
      if (d.namespace !== undefined) out.add(d.namespace);
    });
    return [...out];
  }

  /** Live (key, namespace) slots over all states, as the memory backend counts them. Scans the whole file: for tests and occasional metrics. */
  size(): number {
    let n = 0;
    for (const table of this.tables.values()) {
      let last = '';
      this.scanState(table, (key, _value, d) => {
        const slot = key.toString('latin1', 0, d.mapKeyAt);
        if (slot !== last) {
          last = slot;
          n++;
        }
      });
    }
    return n;
  }

  snapshot(): KeyedStateSnapshot {
    const states: Record<string, StateColumns> = {};
    for (const [name, table] of this.tables) {
      const out = new ColumnsBuilder(table.kind, 1024);
      let lastSlot = '';
      let pairs: unknown[] | undefined;
      let slotOf: { key: Key; keyGroup: number; namespace: Namespace | undefined } | undefined;
      this.scanState(table, (key, value, d) => {
        const t = expiryOf(value);
        const v = decodeValue(value);
        if (table.kind === 'map') {
          const slot = key.toString('latin1', 0, d.mapKeyAt);
          if (slot !== lastSlot) {
            if (pairs !== undefined) out.add(slotOf!.key, slotOf!.keyGroup, slotOf!.namespace, pairs, Infinity);
            lastSlot = slot;
            pairs = [];
            slotOf = { key: d.key, keyGroup: d.keyGroup, namespace: d.namespace };
          }
          const mk = decodeMapKey(key, d.mapKeyAt);
          pairs!.push(t === Infinity ? [mk, v] : [mk, v, t]);
        } else out.add(d.key, d.keyGroup, d.namespace, v, t);
      });
      if (pairs !== undefined) out.add(slotOf!.key, slotOf!.keyGroup, slotOf!.namespace, pairs, Infinity);
      states[name] = out.finish();
    }
    return { maxParallelism: this.maxParallelism, states };
  }

  restore(snapshot: KeyedStateSnapshot, keyGroups?: { from: number; to: number }): void {
    this.checkOpen();
    if (snapshot === null || typeof snapshot !== 'object' || snapshot.states === null || typeof snapshot.states !== 'object') {
      throw new SluiceError('STATE_INCOMPATIBLE', 'the value given to restore() is not a keyed state snapshot');
    }
    if (snapshot.maxParallelism !== this.maxParallelism) {
      throw new SluiceError(
        'STATE_INCOMPATIBLE',
        `the snapshot was taken with max parallelism ${snapshot.maxParallelism}, this backend has ${this.maxParallelism}`,
        { hint: 'The max parallelism of a job cannot change once it has state: run with the max parallelism the snapshot was taken with.' },
      );
    }
    const { from, to } = this.checkRange(keyGroups);
    const names = Object.keys(snapshot.states);
    // Check everything before changing anything, so a bad snapshot leaves the backend as it was.
    for (const name of names) {
      const stored = snapshot.states[name];
      checkStateSnapshot(name, stored);
      const table = this.tables.get(name);
      if (table !== undefined && table.kind !== stored.kind) throw incompatibleKind(name, stored.kind, table.kind);
    }
    this.store.flush();
    const now = this.clock.now();
    for (const name of names) {
      const stored = snapshot.states[name]!;
      const kind = stored.kind;
      const table = this.tables.get(name) ?? this.register(name, kind);
      const bound = this.declared.has(name);
      if (!bound) table.pendingBind = true;
      // As the memory backend: an entry without expiry gets a fresh TTL if the state has one;
      // a state declared without TTL keeps no expiry.
      const expiry = (t: number | undefined): number => (bound ? (table.ttlMs > 0 ? (t ?? now + table.ttlMs) : Infinity) : (t ?? Infinity));
      let batch: Array<[Buffer, Buffer]> = [];
      forEachEntry(stored, this.maxParallelism, (key, keyGroup, namespace, value, expiresAt) => {
        if (keyGroup < from || keyGroup > to || (expiresAt !== undefined && expiresAt <= now)) return;
        const slot = u16(keyGroupOf(key, this.maxParallelism)) + table.idPart + encodeKey(key) + encodeNamespace(namespace);
        if (kind === 'map') {
          for (const [mk, v, t] of value as Array<[unknown, unknown, number?]>) {
            if (t !== undefined && t <= now) continue;
            batch.push([Buffer.from(slot + encodeMapKey(mk), 'latin1'), this.encode(name, v, expiry(t))]);
          }
        } else batch.push([Buffer.from(slot, 'latin1'), this.encode(name, value, expiry(expiresAt))]);
        if (batch.length >= BATCH) {
          this.store.putRaw(batch);
          batch = [];
        }
      });
      this.store.putRaw(batch);
    }
  }

  /** Drops all state (the files stay, empty; {@link destroy} deletes them). */
  dispose(): void {
    this.store.dropCache();
    if (!this.store.closed) {
      this.store.clear();
      this.store.putRaw([[metaKey(MAXP_META, ''), encodeValue(this.maxParallelism, Infinity)]], false);
    }
    this.tables.clear();
    this.declared.clear();
    this.nextId = 1;
    this.chain = [];
    this.ctx.key = undefined;
    this.ctx.namespace = undefined;
    this.ctx.nsPart = encodeNamespace(undefined);
  }

  // ---- beyond the interface ----

  /** Writes the cache to LMDB and closes the file; a backend opened on the same path later sees the same state. */
  async close(): Promise<void> {
    await this.store.close();
  }

  /** Closes and deletes this backend's files. */
  async destroy(): Promise<void> {
    await this.store.destroy();
  }

  /**
   * The attempt that used it failed: its files go, and its directory too when nothing else
   * is in it (see `KeyedStateBackend.release`).
   */
  async release(): Promise<void> {
    await this.destroy();
    await rmdir(this.path).catch(() => {}); // not empty: someone else's files stay
  }

  /** Writes every dirty cached entry to LMDB now. */
  flush(): void {
    this.checkOpen();
    this.store.flush();
  }

  /** Cache hits and misses, and the bytes of the engine's files (metrics). */
  stats(): StateBackendStats {
    return { cacheHits: this.store.hits, cacheMisses: this.store.misses, diskBytes: this.store.closed ? 0 : this.store.engine.diskBytes() };
  }

  /** Entries held decoded in memory (bounded by `cacheSize`). */
  get cachedEntries(): number {
    return this.store.cachedCount;
  }

  /**
   * Writes a checkpoint of the state as of this call into `dir` (created if missing): a
   * delta of the records changed since the previous checkpoint, or a full copy (the first
   * time, after a restore, one in `fullEvery`, or with `{ full: true }`). The state may be
   * used while the promise is pending: the copy reads an LMDB snapshot taken at the call.
   *
   * @example
   * const { chain, incremental, bytes } = await backend.checkpoint('/cp/7/step-uid');
   */
  async checkpoint(dir: string, options: { full?: boolean } = {}): Promise<DiskCheckpoint> {
    this.checkOpen();
    const full = options.full === true || this.chain.length === 0 || this.sinceFull >= this.fullEvery - 1;
    let writer: FrameWriter | undefined;
    try {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, full ? 'state-full.bin' : 'state-delta.bin');
      const w = (writer = new FrameWriter(file, full ? 'full' : 'delta'));
      await this.copyOut(full, (records) => {
        for (const [key, value] of records) w.add(key, value);
      });
      const bytes = w.finish();
      writer = undefined;
      this.chain = full ? [file] : [...this.chain, file];
      this.sinceFull = full ? 0 : this.sinceFull + 1;
      return { files: [file], bytes, incremental: !full, chain: [...this.chain], records: w.frames };
    } catch (e) {
      writer?.abandon();
      this.chain = []; // the change log may be lost: the next checkpoint must be full
      if (e instanceof SluiceError) throw e;
      throw storageFailed(`the checkpoint of the state at ${this.path} into ${dir}`, e, dir);
    }
  }

  /**
   * The records of a checkpoint as of this call, in batches to `sink` (awaited): every
   * record (`full`) or those changed since the previous call (deleted ones with `value`
   * undefined). Metadata records (the state registry) come first, so a reader learns the
   * state ids before it meets their records. The state may be used while this runs: the
   * records come from the engine's view taken at the call. Starts a new change log.
   */
  protected async copyOut(full: boolean, sink: (records: Array<[Buffer, Buffer | undefined]>) => void | Promise<void>): Promise<void> {
    this.store.flush();
    const view = this.store.engine.beginCheckpoint(full); // the state at the barrier; a new change log starts
    try {
      const ranges: Array<[Buffer, Buffer | undefined]> = [
        [META_START, undefined],
        [Buffer.alloc(0), DATA_END],
      ];
      for (const [start, end] of ranges) {
        let after: Buffer | undefined;
        for (;;) {
          const records = view.next(start, end, after, BATCH);
          if (records.length > 0) await sink(records);
          if (records.length < BATCH) break;
          after = records[records.length - 1]![0];
          await yieldToLoop();
        }
      }
    } finally {
      view.done();
    }
  }

  /**
   * Loads a checkpoint chain (a full file, then deltas, as `checkpoint` returned it),
   * keeping only the key groups `[from, to]` if given. Adds to what is there: call it on a
   * fresh backend, once per old subtask whose state merges into this one. The next
   * checkpoint is full.
   *
   * @example
   * await fresh.restoreCheckpoint(cp.chain, keyGroupRange(0, 2));
   */
  async restoreCheckpoint(chain: readonly string[], keyGroups?: { from: number; to: number }): Promise<void> {
    this.checkOpen();
    const { from, to } = this.checkRange(keyGroups);
    this.store.flush();
    const ids = new Map<number, DiskTable>(); // the chain's state ids -> ours
    for (const [i, file] of chain.entries()) {
      const { kind, frames } = readFrames(file);
      if ((i === 0) !== (kind === 'full')) {
        throw new SluiceError('STATE_INCOMPATIBLE', `checkpoint chain: ${file} is a ${kind} file at position ${i}; a chain is one full file, then deltas`);
      }
      await this.loadRecords(frames, ids, from, to, `checkpoint file ${file}`);
    }
    this.chain = [];
  }

  /**
   * Loads records of one part of a checkpoint (as {@link copyOut} gave them) in order,
   * keeping key groups `[from, to]`. `ids` maps the checkpoint's state ids to ours: the
   * metadata records fill it, so pass the same map for every part of one chain.
   */
  protected async loadRecords(records: Iterable<readonly [Buffer, Buffer | undefined]>, ids: Map<number, DiskTable>, from: number, to: number, source: string): Promise<void> {
    let batch: Array<[Buffer, Buffer | undefined]> = [];
    for (const [key, value] of records) {
      if (key[0] === META_BYTE) {
        if (value === undefined || key[2] !== 0x73) continue; // only the state registry
        const { id, kind: stateKind } = decodeValue(value) as { id: number; kind: StateKind };
        const name = key.subarray(3).toString('utf8');
        const known = this.tables.get(name);
        if (known !== undefined && known.kind !== stateKind) throw incompatibleKind(name, stateKind, known.kind);
        const table = known ?? this.register(name, stateKind);
        if (!this.declared.has(name)) table.pendingBind = true;
        ids.set(id, table);
        continue;
      }
      const group = key.readUInt16BE(0);
      if (group < from || group > to) continue;
      const table = ids.get(key.readUInt16BE(2));
      if (table === undefined) throw new SluiceError('STATE_INCOMPATIBLE', `${source} has a record of an unknown state id ${key.readUInt16BE(2)}`);
      const ours = Buffer.from(key);
      ours.writeUInt16BE(table.id, 2);
      batch.push([ours, value === undefined ? undefined : Buffer.from(value)]);
      if (batch.length >= BATCH) {
        this.store.putRaw(batch, false);
        batch = [];
        await yieldToLoop();
      }
    }
    this.store.putRaw(batch, false);
  }

  /**
   * The job's checkpoints (`KeyedStateBackend.checkpointTo`): {@link checkpoint} into `dir`,
   * as a handle that lists the chain and its directories. `KeyedScope.snapshot` calls it at
   * the barrier; the checkpoint then stores only the handle (see `disk-incremental.test.ts`).
   */
  async checkpointTo(dir: string, _checkpointId: number): Promise<KeyedStateHandle> {
    const cp = await this.checkpoint(dir);
    return { format: 'disk-chain', maxParallelism: this.maxParallelism, chain: cp.chain, dirs: [...new Set(cp.chain.map((f) => dirname(f)))], incremental: cp.incremental, bytes: cp.bytes };
  }

  /** Loads a handle {@link checkpointTo} returned (of this or another subtask: with `keyGroups`, only those groups). */
  async restoreHandle(handle: KeyedStateHandle, keyGroups?: { from: number; to: number }): Promise<void> {
    checkHandle(handle, this.maxParallelism);
    await this.restoreCheckpoint(handle.chain, keyGroups);
  }

  /** Runs the TTL sweep over up to `records` records now (tests; normally it runs on TTL'd writes). Returns the records deleted. */
  sweepExpired(records: number): number {
    this.checkOpen();
    return this.store.sweep(this.clock.now(), records);
  }

  /** DiskHost: each TTL'd write earns two records of disk sweep, run in rounds. */
  ttlWrite(now: number): void {
    this.sweepCredit += 2;
    if (this.sweepCredit >= SWEEP_ROUND) {
      this.store.sweep(now, this.sweepCredit);
      this.sweepCredit = 0;
    }
  }

  // ---- internals ----

  private createState(d: StateDescriptor, table: DiskTable): unknown {
    switch (d.kind) {
      case 'value':
        return new DiskValueState(this.ctx, table, this, d.defaultValue);
      case 'list':
        return new DiskListState(this.ctx, table, this);
      case 'map':
        return new DiskMapState(this.ctx, table, this);
      case 'reducing':
        return new DiskReducingState(this.ctx, table, this, d.reduce);
      case 'aggregating':
        return new DiskAggregatingState(this.ctx, table, this, d.aggregate);
    }
  }

  /** Adds a state to the registry (persisted in a metadata record). */
  private register(name: string, kind: StateKind): DiskTable {
    if (this.nextId > 0xffff) throw new SluiceError('INVALID_ARGUMENT', `too many states in one backend (at most ${0xffff})`);
    const table = new DiskTable(name, kind, this.nextId++);
    this.tables.set(name, table);
    this.store.putRaw([[metaKey(STATE_META, name), encodeValue({ id: table.id, kind }, Infinity)]]);
    return table;
  }

  private loadRegistry(): void {
    const maxp = this.store.engine.get(metaKey(MAXP_META, ''));
    if (maxp === undefined) this.store.putRaw([[metaKey(MAXP_META, ''), encodeValue(this.maxParallelism, Infinity)]]);
    else if (decodeValue(maxp) !== this.maxParallelism) {
      throw new SluiceError('STATE_INCOMPATIBLE', `the state at ${this.path} was written with max parallelism ${String(decodeValue(maxp))}, this backend has ${this.maxParallelism}`);
    }
    const start = metaKey(STATE_META, '');
    for (const { key, value } of this.store.engine.range(start, rangeEnd(start))) {
      const { id, kind } = decodeValue(value) as { id: number; kind: StateKind };
      const name = key.subarray(3).toString('utf8');
      this.tables.set(name, new DiskTable(name, kind, id));
      this.nextId = Math.max(this.nextId, id + 1);
    }
  }

  /**
   * Fixes the expiries of restored records once the state is declared, as the memory
   * backend's `bind`: without TTL they never expire; with one, those without expiry get a
   * fresh one.
   */
  private bind(table: DiskTable): void {
    table.pendingBind = false;
    const now = this.clock.now();
    const rewrites: Array<[Buffer, Buffer]> = [];
    this.scanState(table, (key, value) => {
      const t = expiryOf(value);
      const want = table.ttlMs === 0 ? Infinity : t === Infinity ? now + table.ttlMs : t;
      if (want !== t) rewrites.push([Buffer.from(key), withExpiry(value, want)]);
    });
    this.store.putRaw(rewrites);
  }

  /** Visits the live records of a state over all key groups (deleting expired ones met). */
  private scanState(table: DiskTable, f: (key: Buffer, value: Buffer, d: ReturnType<typeof decodeRecordKey>) => void): void {
    for (let g = 0; g < this.maxParallelism; g++) {
      const prefix = Buffer.from(u16(g) + table.idPart, 'latin1');
      this.scanLive(prefix, rangeEnd(prefix), f);
    }
  }

  private scanLive(start: Buffer, end: Buffer, f: (key: Buffer, value: Buffer, d: ReturnType<typeof decodeRecordKey>) => void): void {
    const now = this.clock.now();
    const dead: Buffer[] = [];
    for (const { key, value } of this.store.scan(start, end)) {
      if (expiryOf(value) <= now) dead.push(key);
      else f(key, value, decodeRecordKey(key));
    }
    this.store.removeNow(dead);
  }

  private encode(name: string, v: unknown, t: number): Buffer {
    try {
      return encodeValue(v, t);
    } catch (e) {
      throw new SluiceError('STATE_NOT_SERIALIZABLE', `a value of state '${name}' could not be written to disk: ${(e as Error).message}`, { cause: e });
    }
  }

  protected checkRange(keyGroups: { from: number; to: number } | undefined): { from: number; to: number } {
    const from = keyGroups?.from ?? 0;
    const to = keyGroups?.to ?? this.maxParallelism - 1;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to >= this.maxParallelism || from > to) {
      throw new SluiceError('INVALID_ARGUMENT', `key group range [${from}, ${to}] is not inside [0, ${this.maxParallelism - 1}]`);
    }
    return { from, to };
  }

  protected checkOpen(): void {
    if (this.store.closed) throw new SluiceError('STATE_IO_FAILED', `the state backend at ${this.path} is closed`, { hint: 'Open a new DiskStateBackend on the path.' });
  }
}

/** Refuses a handle of another format or max parallelism. */
export function checkHandle(handle: KeyedStateHandle, maxParallelism: number): void {
  if (handle?.format !== 'disk-chain' || !Array.isArray(handle.chain)) {
    throw new SluiceError('STATE_INCOMPATIBLE', `the state handle given is not an on-disk backend checkpoint (format ${String(handle?.format)})`);
  }
  if (handle.maxParallelism !== maxParallelism) {
    throw new SluiceError('STATE_INCOMPATIBLE', `the checkpoint was taken with max parallelism ${handle.maxParallelism}, this backend has ${maxParallelism}`, {
      hint: 'The max parallelism of a job cannot change once it has state: run with the max parallelism the checkpoint was taken with.',
    });
  }
}

function metaKey(prefix: string, name: string): Buffer {
  return Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.from(name, 'utf8')]);
}

function withExpiry(value: Buffer, t: number): Buffer {
  const body = value.subarray(value[0] === 1 ? 9 : 1);
  const out = Buffer.allocUnsafe(body.length + (t === Infinity ? 1 : 9));
  out[0] = t === Infinity ? 0 : 1;
  if (t !== Infinity) out.writeDoubleBE(t, 1);
  body.copy(out, t === Infinity ? 1 : 9);
  return out;
}
