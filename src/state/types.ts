import type { Duration } from '../time/duration.js';

/** A key of a keyed stream. Keys are compared by value (`===`), so objects are not keys. */
export type Key = string | number | bigint;

/** A namespace splits one key's state further: windows use the window as namespace. */
export type Namespace = string | number;

/** One value per key. */
export interface ValueState<T> {
  /** The value, or the descriptor's default (undefined if none) when absent or expired. */
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

/** A list per key. */
export interface ListState<T> {
  /** The elements (a copy: changing it does not change the state). Empty when absent or expired. */
  get(): T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  /** Replaces the whole list. */
  update(values: readonly T[]): void;
  clear(): void;
}

/** A map per key. TTL applies per entry. */
export interface MapState<MK, V> {
  get(key: MK): V | undefined;
  put(key: MK, value: V): void;
  putAll(entries: Iterable<readonly [MK, V]>): void;
  remove(key: MK): void;
  contains(key: MK): boolean;
  entries(): Array<[MK, V]>;
  keys(): MK[];
  values(): V[];
  isEmpty(): boolean;
  clear(): void;
}

/**
 * Broadcast state as the main input of a broadcast step sees it (`processElement`,
 * `onTimer`): read only, so that every parallel instance of the step keeps the same
 * entries. Values are the stored objects themselves: do not change them.
 */
export interface ReadOnlyBroadcastState<MK, V> {
  get(key: MK): V | undefined;
  contains(key: MK): boolean;
  /** The entries in insertion order (a new array each call). */
  entries(): Array<[MK, V]>;
  keys(): MK[];
  values(): V[];
  isEmpty(): boolean;
  readonly size: number;
}

/**
 * Broadcast state as the broadcast input sees it (`processBroadcastElement`): a map per
 * step (not per key), the same on every parallel instance because each one applies
 * the same broadcast records in the same order.
 */
export interface BroadcastState<MK, V> extends ReadOnlyBroadcastState<MK, V> {
  put(key: MK, value: V): void;
  putAll(entries: Iterable<readonly [MK, V]>): void;
  remove(key: MK): void;
  clear(): void;
}

/** A value per key folded with a reduce function as elements are added. */
export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

/** An accumulator per key, fed by `add`, read through the aggregate function's `getResult`. */
export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/**
 * An incremental aggregation: a mutable or immutable accumulator that elements are added
 * to, and a result read from it. `merge` is needed where accumulators combine (session
 * windows, sliding-window panes, two-phase aggregation).
 *
 * @example
 * const average: AggregateFunction<number, { sum: number; n: number }, number> = {
 *   createAccumulator: () => ({ sum: 0, n: 0 }),
 *   add: (v, acc) => ({ sum: acc.sum + v, n: acc.n + 1 }),
 *   getResult: (acc) => acc.sum / acc.n,
 *   merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
 * };
 */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge?(a: ACC, b: ACC): ACC;
  /**
   * Optional: merges `b` into `a`, changing `a` (and returns it). Windows use it to combine
   * slices into an accumulator they own, without a copy per slice. Must give what `merge` gives.
   */
  mergeInto?(a: ACC, b: ACC): ACC;
}

/**
 * Time-to-live of state entries, in processing time (the job's clock), as in Flink.
 * An expired value is never returned.
 */
export interface StateTtl {
  ttl: Duration;
  /** When the clock restarts: on create and write (default), or also on every read. */
  updateOn?: 'create-and-write' | 'read-and-write';
}

interface DescriptorBase {
  readonly name: string;
  readonly ttl?: StateTtl | undefined;
  /** Version of the state's shape (default 1); see `migrate`. */
  readonly version?: number | undefined;
  /** Brings an entry stored by an older version to the current shape. */
  readonly migrate?: ((stored: unknown, fromVersion: number) => unknown) | undefined;
}

export interface ValueStateDescriptor<T> extends DescriptorBase {
  readonly kind: 'value';
  readonly defaultValue?: T | undefined;
}
export interface ListStateDescriptor<T> extends DescriptorBase {
  readonly kind: 'list';
  /** Phantom field: carries the element type. */
  readonly __type?: T;
}
export interface MapStateDescriptor<MK, V> extends DescriptorBase {
  readonly kind: 'map';
  readonly __type?: [MK, V];
}
export interface ReducingStateDescriptor<T> extends DescriptorBase {
  readonly kind: 'reducing';
  readonly reduce: (a: T, b: T) => T;
}
export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  readonly kind: 'aggregating';
  readonly aggregate: AggregateFunction<IN, ACC, OUT>;
}

export type StateDescriptor =
  | ValueStateDescriptor<any>
  | ListStateDescriptor<any>
  | MapStateDescriptor<any, any>
  | ReducingStateDescriptor<any>
  | AggregatingStateDescriptor<any, any, any>;

/** Which of the five kinds of state a descriptor declares. */
export type StateKind = StateDescriptor['kind'];

/** The state object a descriptor gives. */
export type StateOf<D> = D extends ValueStateDescriptor<infer T>
  ? ValueState<T>
  : D extends ListStateDescriptor<infer T>
    ? ListState<T>
    : D extends MapStateDescriptor<infer MK, infer V>
      ? MapState<MK, V>
      : D extends ReducingStateDescriptor<infer T>
        ? ReducingState<T>
        : D extends AggregatingStateDescriptor<infer IN, any, infer OUT>
          ? AggregatingState<IN, OUT>
          : never;

/** One stored entry in a snapshot (the entry format of Sluice 0.1.0; see {@link StateColumns} for the current one). */
export interface StateEntry {
  readonly key: Key;
  readonly keyGroup: number;
  readonly namespace?: Namespace | undefined;
  /** The value; for map state, the array of [mapKey, value] pairs; for list state, the array. */
  readonly value: unknown;
  /** Processing time at which the entry expires (TTL), if it has a TTL. For map state, per map entry inside `value`. */
  readonly expiresAt?: number | undefined;
}

/** A state's entries as entry objects: what Sluice 0.1.0 wrote. Still restored, no longer written. */
export interface StateEntries {
  readonly kind: StateDescriptor['kind'];
  readonly entries: StateEntry[];
}

/**
 * A state's entries as parallel columns: entry `i` is `keys[i]`, `keyGroups?.[i]`,
 * `namespaces?.[i]`, `values[i]`, `expiresAt?.[i]`, as in {@link StateEntry}. Numbers go
 * into typed arrays, which V8 serializes and copies as one block of memory: a million
 * numeric entries are a few copies of a few megabytes, not a million objects.
 * Built and read by `state/snapshot-format.ts`.
 */
export interface StateColumns {
  readonly kind: StateDescriptor['kind'];
  /** Number of entries: the length of every column. */
  readonly count: number;
  /** A Float64Array when every key is a number. */
  readonly keys: Float64Array | Key[];
  /**
   * The key group of each key, when the writer had them at hand (the on-disk backend keeps
   * them in its record keys). The memory backend leaves them out: hashing a million keys
   * was most of a snapshot's time at the barrier, and a restore needs them only to filter
   * by key group (rescaling), where it hashes the keys itself.
   */
  readonly keyGroups?: Uint16Array;
  /**
   * Absent when no entry has a namespace; a Float64Array when every entry has a numeric one;
   * otherwise an array with `undefined` for entries without.
   */
  readonly namespaces?: Float64Array | Array<Namespace | undefined>;
  /** A Float64Array when every value is a number. For map state, arrays of `[mapKey, value, expiresAt?]`. */
  readonly values: Float64Array | unknown[];
  /** Absent when no entry expires; otherwise the expiry per entry, `Infinity` for none. */
  readonly expiresAt?: Float64Array;
}

/** One state in a snapshot: columns (what backends write now) or entries (what Sluice 0.1.0 wrote). */
export type StateSnapshot = StateColumns | StateEntries;

/** A copy of a backend's keyed state: per state name, its descriptor kind and entries. */
export interface KeyedStateSnapshot {
  readonly maxParallelism: number;
  readonly states: Record<string, StateSnapshot>;
}

/**
 * Keyed state of one operator (one step uid). The operator sets the current key (and
 * namespace) before calling user code; state objects read and write under it.
 * The in-memory backend implements this; an on-disk backend will too, and both pass the
 * shared suite in `testing/backend-suite.ts` (`describeStateBackend` in `sluice/testing`).
 */
export interface KeyedStateBackend {
  readonly maxParallelism: number;
  setCurrentKey(key: Key): void;
  /** The current key; throws STATE_OUTSIDE_KEY when none has been set. */
  getCurrentKey(): Key;
  /** Namespace for the following reads and writes; undefined is the key's plain state. */
  setCurrentNamespace(namespace: Namespace | undefined): void;
  /** The state object for a descriptor; the same object is returned for the same name. */
  getState<D extends StateDescriptor>(descriptor: D): StateOf<D>;
  /** Keys that have a live (unexpired) entry in the named state, in any namespace. */
  keys(stateName: string): Key[];
  /** Namespaces the current key has in the named state (used by windows to find their windows). */
  namespaces(stateName: string): Namespace[];
  /** Number of live entries across all states (for metrics and tests). */
  size(): number;
  snapshot(): KeyedStateSnapshot;
  /**
   * Loads entries of the given key groups only (rescaling hands each subtask its range;
   * `from` and `to` are inclusive, as `keyGroupRange` returns them). Adds to what is there.
   */
  restore(snapshot: KeyedStateSnapshot, keyGroups?: { from: number; to: number }): void;
  dispose(): void;
  /**
   * Optional, for backends that keep their state in files (Flink's incremental RocksDB
   * checkpoints): writes the files of checkpoint `checkpointId` into `dir` (a fresh
   * directory the checkpoint storage keeps while a retained checkpoint lists it) and
   * returns the small handle that restores the state, instead of a {@link snapshot} of
   * every entry. Only what changed since the previous call need be written.
   */
  checkpointTo?(dir: string, checkpointId: number): Promise<KeyedStateHandle>;
  /** Optional, with {@link checkpointTo}: loads a handle it returned (keeping only `keyGroups` if given). Adds to what is there. */
  restoreHandle?(handle: KeyedStateHandle, keyGroups?: { from: number; to: number }): Promise<void>;
}

/**
 * Keyed state held in files outside the checkpoint (see `KeyedStateBackend.checkpointTo`):
 * what the checkpoint itself stores for such a step.
 */
export interface KeyedStateHandle {
  /** The file format: 'disk-chain' is the on-disk backend's (`state/disk/checkpoint-files.ts`). */
  readonly format: 'disk-chain';
  readonly maxParallelism: number;
  /** The files that restore the state, in order (a full file, then deltas). */
  readonly chain: readonly string[];
  /** The directories holding `chain`: the checkpoint storage keeps them while a retained checkpoint lists them. */
  readonly dirs: readonly string[];
  /** True when this checkpoint wrote only what changed since the previous one. */
  readonly incremental: boolean;
  /** Bytes this checkpoint wrote (its new files only). */
  readonly bytes: number;
}
