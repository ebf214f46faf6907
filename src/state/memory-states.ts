/**
 * The five state objects of the memory backend. Each reads the current key and namespace
 * from a shared {@link KeyContext} on every call and stores into a {@link StateTable}.
 * Internal to the memory backend.
 */
import { SluiceError } from '../errors/index.js';
import type { Clock } from '../time/clock.js';
import type { Cell, StateTable } from './state-table.js';
import type {
  AggregateFunction,
  AggregatingState,
  Key,
  ListState,
  MapState,
  Namespace,
  ReducingState,
  ValueState,
} from './types.js';

/** The current key and namespace, shared by a backend and its state objects. */
export class KeyContext {
  key: Key | undefined = undefined;
  namespace: Namespace | undefined = undefined;
}

/**
 * The STATE_OUTSIDE_KEY error for a state used with no current key.
 *
 * @example
 * throw outsideKey('count');
 */
export function outsideKey(stateName: string): SluiceError {
  return new SluiceError('STATE_OUTSIDE_KEY', `state '${stateName}' was used with no current key`);
}

abstract class BaseState {
  constructor(
    protected readonly ctx: KeyContext,
    protected readonly table: StateTable,
  ) {}

  protected key(): Key {
    const key = this.ctx.key;
    if (key === undefined) throw outsideKey(this.table.name);
    return key;
  }

  clear(): void {
    this.table.remove(this.key(), this.ctx.namespace);
  }
}

export class MemoryValueState<T> extends BaseState implements ValueState<T> {
  /** No TTL: the plain map holds bare values (fixed when the state is declared). */
  private readonly fast: boolean;
  private readonly plain: Map<Key, unknown>;

  constructor(
    ctx: KeyContext,
    table: StateTable,
    private readonly defaultValue: T | undefined,
  ) {
    super(ctx, table);
    this.fast = !table.cells;
    this.plain = table.plain;
  }

  value(): T | undefined {
    const key = this.ctx.key;
    if (key === undefined) throw outsideKey(this.table.name);
    // Hot path: no TTL, no namespace -> exactly one Map.get, nothing allocated.
    const v = this.fast && this.ctx.namespace === undefined ? this.plain.get(key) : this.table.read(key, this.ctx.namespace);
    return v === undefined ? this.defaultValue : (v as T);
  }

  /** Stores `value`; `undefined` clears, as `null` does in Flink. */
  update(value: T): void {
    const key = this.ctx.key;
    if (key === undefined) throw outsideKey(this.table.name);
    const ns = this.ctx.namespace;
    if (value === undefined) this.table.remove(key, ns);
    else if (this.fast && ns === undefined) {
      this.plain.set(key, value);
      if (this.table.tracking) this.table.touch(key, undefined);
    } else this.table.write(key, ns, value);
  }
}

export class MemoryListState<T> extends BaseState implements ListState<T> {
  get(): T[] {
    const list = this.table.read(this.key(), this.ctx.namespace) as T[] | undefined;
    return list === undefined ? [] : list.slice();
  }

  add(value: T): void {
    const key = this.key();
    const ns = this.ctx.namespace;
    const list = this.table.readForWrite(key, ns) as T[] | undefined;
    if (list === undefined) this.table.write(key, ns, [value]);
    else {
      list.push(value);
      if (this.table.cells) this.table.write(key, ns, list); // restarts the TTL
      else if (this.table.tracking) this.table.touch(key, ns);
    }
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const key = this.key();
    const ns = this.ctx.namespace;
    const list = this.table.readForWrite(key, ns) as T[] | undefined;
    if (list === undefined) this.table.write(key, ns, values.slice());
    else {
      for (const v of values) list.push(v);
      if (this.table.cells) this.table.write(key, ns, list);
      else if (this.table.tracking) this.table.touch(key, ns);
    }
  }

  /** Replaces the list; an empty list clears it. */
  update(values: readonly T[]): void {
    const key = this.key();
    if (values.length === 0) this.table.remove(key, this.ctx.namespace);
    else this.table.write(key, this.ctx.namespace, values.slice());
  }
}

export class MemoryReducingState<T> extends BaseState implements ReducingState<T> {
  constructor(
    ctx: KeyContext,
    table: StateTable,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    super(ctx, table);
  }

  get(): T | undefined {
    return this.table.read(this.key(), this.ctx.namespace) as T | undefined;
  }

  add(value: T): void {
    const key = this.key();
    const ns = this.ctx.namespace;
    const current = this.table.readForWrite(key, ns) as T | undefined;
    this.table.write(key, ns, current === undefined ? value : this.reduce(current, value));
  }
}

export class MemoryAggregatingState<IN, ACC, OUT> extends BaseState implements AggregatingState<IN, OUT> {
  constructor(
    ctx: KeyContext,
    table: StateTable,
    private readonly aggregate: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(ctx, table);
  }

  get(): OUT | undefined {
    const acc = this.table.read(this.key(), this.ctx.namespace) as ACC | undefined;
    return acc === undefined ? undefined : this.aggregate.getResult(acc);
  }

  add(value: IN): void {
    const key = this.key();
    const ns = this.ctx.namespace;
    const acc = (this.table.readForWrite(key, ns) as ACC | undefined) ?? this.aggregate.createAccumulator();
    this.table.write(key, ns, this.aggregate.add(value, acc));
  }
}

/**
 * Map state: the slot is a `Map` of entries; with a TTL each entry is a {@link Cell} with
 * its own expiry. Reads (`get`, `contains`, `entries`, `keys`, `values`) refresh the
 * entries they return when `updateOn` is 'read-and-write'; `isEmpty` does not.
 */
export class MemoryMapState<MK, V> extends BaseState implements MapState<MK, V> {
  constructor(
    ctx: KeyContext,
    table: StateTable,
    private readonly clock: Clock,
  ) {
    super(ctx, table);
  }

  private slot(): Map<MK, unknown> | undefined {
    return this.table.read(this.key(), this.ctx.namespace) as Map<MK, unknown> | undefined;
  }

  /** Drops the slot once its last entry is gone, so empty maps do not pile up. */
  private dropIfEmpty(m: Map<MK, unknown>): void {
    if (m.size === 0) this.table.remove(this.key(), this.ctx.namespace);
  }

  /** The live cell of `mk` (TTL only), refreshed if reads refresh; expired ones are deleted. */
  private liveCell(m: Map<MK, unknown>, mk: MK, now: number): Cell | undefined {
    const c = m.get(mk) as Cell | undefined;
    if (c === undefined) return undefined;
    if (c.t <= now) {
      m.delete(mk);
      this.dropIfEmpty(m);
      return undefined;
    }
    if (this.table.refreshOnRead) {
      c.t = now + this.table.ttlMs;
      if (this.table.tracking) this.table.touch(this.key(), this.ctx.namespace);
    }
    return c;
  }

  get(mk: MK): V | undefined {
    const m = this.slot();
    if (m === undefined) return undefined;
    if (!this.table.cells) return m.get(mk) as V | undefined;
    const now = this.clock.now();
    return this.liveCell(m, mk, now)?.v as V | undefined;
  }

  contains(mk: MK): boolean {
    const m = this.slot();
    if (m === undefined) return false;
    if (!this.table.cells) return m.has(mk);
    return this.liveCell(m, mk, this.clock.now()) !== undefined;
  }

  put(mk: MK, value: V): void {
    const key = this.key();
    const now = this.table.cells ? this.clock.now() : 0;
    if (this.table.cells) this.table.sweep(now); // before taking the slot: the sweep may drop (detach) an emptied map
    let m = this.slot();
    if (m === undefined) {
      m = new Map();
      this.table.write(key, this.ctx.namespace, m);
    } else if (this.table.tracking) this.table.touch(key, this.ctx.namespace);
    if (!this.table.cells) {
      m.set(mk, value);
      return;
    }
    const c = m.get(mk) as Cell | undefined;
    if (c === undefined) m.set(mk, { v: value, t: now + this.table.ttlMs });
    else {
      c.v = value;
      c.t = now + this.table.ttlMs;
    }
  }

  putAll(entries: Iterable<readonly [MK, V]>): void {
    for (const [mk, v] of entries) this.put(mk, v);
  }

  remove(mk: MK): void {
    const m = this.slot();
    if (m === undefined) return;
    if (this.table.tracking) this.table.touch(this.key(), this.ctx.namespace);
    m.delete(mk);
    this.dropIfEmpty(m);
  }

  entries(): Array<[MK, V]> {
    const out: Array<[MK, V]> = [];
    this.forEachLive((mk, v) => out.push([mk, v]));
    return out;
  }

  keys(): MK[] {
    const out: MK[] = [];
    this.forEachLive((mk) => out.push(mk));
    return out;
  }

  values(): V[] {
    const out: V[] = [];
    this.forEachLive((_mk, v) => out.push(v));
    return out;
  }

  isEmpty(): boolean {
    const m = this.slot();
    if (m === undefined) return true;
    const live = this.table.isLive(m, this.clock.now());
    if (!live) this.dropIfEmpty(m);
    return !live;
  }

  private forEachLive(f: (mk: MK, v: V) => void): void {
    if (!this.table.cells) {
      const m = this.slot();
      if (m !== undefined) for (const [mk, v] of m) f(mk, v as V);
      return;
    }
    const m = this.slot();
    if (m === undefined) return;
    const now = this.clock.now();
    const refresh = this.table.refreshOnRead;
    if (refresh && this.table.tracking) this.table.touch(this.key(), this.ctx.namespace);
    for (const [mk, s] of m) {
      const c = s as Cell;
      if (c.t <= now) m.delete(mk);
      else {
        if (refresh) c.t = now + this.table.ttlMs;
        f(mk, c.v as V);
      }
    }
    this.dropIfEmpty(m);
  }
}
