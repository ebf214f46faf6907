/**
 * The five state objects of the on-disk backend. Each builds its record id from the
 * shared {@link DiskKeyContext} (key group, key and namespace parts encoded once per
 * `setCurrentKey`/`setCurrentNamespace`) and reads and writes cache entries of the
 * {@link RecordStore}. Internal to `state/disk/`.
 *
 * Semantics are the memory backend's (`memory-states.ts`), pinned by the shared suite and
 * by the differential test in `lmdb-backend.test.ts`. One difference: a value read from
 * state is a decoded copy once it has left the cache, so changing a returned object in
 * place is not a write (call `update`/`put`, as with Flink's RocksDB backend).
 */
import type { Clock } from '../../time/clock.js';
import { outsideKey } from '../memory-states.js';
import type { StateKind } from '../types.js';
import type { AggregateFunction, AggregatingState, Key, ListState, MapState, Namespace, ReducingState, ValueState } from '../types.js';
import { checkKeyLength, decodeMapKey, decodeValue, encodeMapKey, expiryOf } from './codec.js';
import { ABSENT, type Entry, type RecordStore } from './record-store.js';

/** The current key and namespace, with their encoded parts. */
export class DiskKeyContext {
  key: Key | undefined = undefined;
  namespace: Namespace | undefined = undefined;
  /** Key group, two bytes. */
  kg = '';
  keyPart = '';
  nsPart = '\x01';
}

/** One named state: its id in record keys and its TTL. */
export class DiskTable {
  ttlMs = 0;
  refreshOnRead = false;
  /** Restored before being declared: expiries are converted when it is (see `bind` in the backend). */
  pendingBind = false;
  readonly idPart: string;

  constructor(
    readonly name: string,
    readonly kind: StateKind,
    readonly id: number,
  ) {
    this.idPart = String.fromCharCode(id >> 8, id & 0xff);
  }
}

/** What the state objects need from the backend. */
export interface DiskHost {
  readonly store: RecordStore;
  readonly clock: Clock;
  /** Called on each write of a TTL'd state: drives the incremental disk sweep. */
  ttlWrite(now: number): void;
}

abstract class DiskState {
  constructor(
    protected readonly ctx: DiskKeyContext,
    protected readonly table: DiskTable,
    protected readonly host: DiskHost,
  ) {}

  /** The record id of the current (key, namespace) slot. */
  protected slotId(): string {
    if (this.ctx.key === undefined) throw outsideKey(this.table.name);
    const id = this.ctx.kg + this.table.idPart + this.ctx.keyPart + this.ctx.nsPart;
    checkKeyLength(id);
    return id;
  }

  /** The live value of an entry, or ABSENT; deletes it if expired; refreshes it if asked and configured. */
  protected live(e: Entry, refresh: boolean): unknown {
    if (e.v === ABSENT) return ABSENT;
    if (e.t !== Infinity) {
      const now = this.host.clock.now();
      if (e.t <= now) {
        this.host.store.set(e, ABSENT, Infinity);
        return ABSENT;
      }
      if (refresh && this.table.refreshOnRead) {
        e.t = now + this.table.ttlMs;
        this.host.store.touch(e);
      }
    }
    return e.v;
  }

  protected read(refresh: boolean): unknown {
    return this.live(this.host.store.lookup(this.slotId()), refresh);
  }

  /** Stores a value in an entry, restarting its TTL. */
  protected writeEntry(e: Entry, value: unknown): void {
    const ttl = this.table.ttlMs;
    if (ttl === 0) this.host.store.set(e, value, Infinity);
    else {
      const now = this.host.clock.now();
      this.host.store.set(e, value, now + ttl);
      this.host.ttlWrite(now);
    }
  }

  protected write(value: unknown): void {
    this.writeEntry(this.host.store.upsert(this.slotId()), value);
  }

  clear(): void {
    this.host.store.set(this.host.store.upsert(this.slotId()), ABSENT, Infinity);
  }
}

export class DiskValueState<T> extends DiskState implements ValueState<T> {
  constructor(
    ctx: DiskKeyContext,
    table: DiskTable,
    host: DiskHost,
    private readonly defaultValue: T | undefined,
  ) {
    super(ctx, table, host);
  }

  value(): T | undefined {
    const v = this.read(true);
    return v === ABSENT ? this.defaultValue : (v as T);
  }

  /** Stores `value`; `undefined` clears. */
  update(value: T): void {
    if (value === undefined) this.clear();
    else this.write(value);
  }
}

export class DiskListState<T> extends DiskState implements ListState<T> {
  get(): T[] {
    const v = this.read(true);
    return v === ABSENT ? [] : (v as T[]).slice();
  }

  add(value: T): void {
    this.addAll([value]);
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const e = this.host.store.lookup(this.slotId());
    const list = this.live(e, false);
    if (list === ABSENT) this.writeEntry(e, values.slice());
    else {
      for (const v of values) (list as T[]).push(v);
      this.writeEntry(e, list); // marks it dirty and restarts the TTL
    }
  }

  /** Replaces the list; an empty list clears it. */
  update(values: readonly T[]): void {
    if (values.length === 0) this.clear();
    else this.write(values.slice());
  }
}

export class DiskReducingState<T> extends DiskState implements ReducingState<T> {
  constructor(
    ctx: DiskKeyContext,
    table: DiskTable,
    host: DiskHost,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    super(ctx, table, host);
  }

  get(): T | undefined {
    const v = this.read(true);
    return v === ABSENT ? undefined : (v as T);
  }

  add(value: T): void {
    const e = this.host.store.lookup(this.slotId());
    const current = this.live(e, false);
    this.writeEntry(e, current === ABSENT ? value : this.reduce(current as T, value));
  }
}

export class DiskAggregatingState<IN, ACC, OUT> extends DiskState implements AggregatingState<IN, OUT> {
  constructor(
    ctx: DiskKeyContext,
    table: DiskTable,
    host: DiskHost,
    private readonly aggregate: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(ctx, table, host);
  }

  get(): OUT | undefined {
    const acc = this.read(true);
    return acc === ABSENT ? undefined : this.aggregate.getResult(acc as ACC);
  }

  add(value: IN): void {
    const e = this.host.store.lookup(this.slotId());
    const acc = this.live(e, false);
    this.writeEntry(e, this.aggregate.add(value, acc === ABSENT ? this.aggregate.createAccumulator() : (acc as ACC)));
  }
}

/**
 * Map state: one record per map entry, under `slot id + map key`, each with its own
 * expiry. Point operations touch one record; iteration scans the slot's key range (after
 * flushing the cache), so a large map is never loaded whole for a `get`.
 */
export class DiskMapState<MK, V> extends DiskState implements MapState<MK, V> {
  private entryId(mk: MK): string {
    const id = this.slotId() + encodeMapKey(mk);
    checkKeyLength(id);
    return id;
  }

  get(mk: MK): V | undefined {
    const v = this.live(this.host.store.lookup(this.entryId(mk)), true);
    return v === ABSENT ? undefined : (v as V);
  }

  contains(mk: MK): boolean {
    return this.live(this.host.store.lookup(this.entryId(mk)), true) !== ABSENT;
  }

  put(mk: MK, value: V): void {
    this.writeEntry(this.host.store.upsert(this.entryId(mk)), value);
  }

  putAll(entries: Iterable<readonly [MK, V]>): void {
    for (const [mk, v] of entries) this.put(mk, v);
  }

  remove(mk: MK): void {
    this.host.store.set(this.host.store.upsert(this.entryId(mk)), ABSENT, Infinity);
  }

  entries(): Array<[MK, V]> {
    const out: Array<[MK, V]> = [];
    this.forEachLive(true, (mk, v) => out.push([mk, v]));
    return out;
  }

  keys(): MK[] {
    const out: MK[] = [];
    this.forEachLive(true, (mk) => out.push(mk));
    return out;
  }

  values(): V[] {
    const out: V[] = [];
    this.forEachLive(true, (_mk, v) => out.push(v));
    return out;
  }

  isEmpty(): boolean {
    let empty = true;
    this.forEachLive(false, () => {
      empty = false;
    });
    return empty;
  }

  override clear(): void {
    const prefix = Buffer.from(this.slotId(), 'latin1');
    const records = this.host.store.scan(prefix, rangeEnd(prefix));
    this.host.store.removeNow(records.map((r) => r.key));
  }

  /** Visits live entries of the slot in map-key byte order; deletes expired ones; refreshes read ones if configured. */
  private forEachLive(refresh: boolean, f: (mk: MK, v: V) => void): void {
    const prefix = Buffer.from(this.slotId(), 'latin1');
    const records = this.host.store.scan(prefix, rangeEnd(prefix));
    if (records.length === 0) return;
    const now = this.host.clock.now();
    const dead: Buffer[] = [];
    const live: Array<[MK, V]> = [];
    for (const { key, value } of records) {
      if (expiryOf(value) <= now) dead.push(key);
      else live.push([decodeMapKey(key, prefix.length) as MK, decodeValue(value) as V]);
    }
    this.host.store.removeNow(dead);
    if (refresh && this.table.refreshOnRead) {
      for (const [mk, v] of live) {
        const e = this.host.store.upsert(this.entryId(mk));
        this.host.store.set(e, v, now + this.table.ttlMs);
      }
    }
    for (const [mk, v] of live) f(mk, v);
  }
}

/** The end (exclusive) of the range of keys that start with `prefix`. */
export function rangeEnd(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, Buffer.from([0xff])]);
}
