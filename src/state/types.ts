import type { Duration } from '../time/duration.js';

/** A key of a keyed stream. Keys are compared by value (`===`), so objects are not keys. */
export type Key = string | number | bigint;

/** A namespace splits one key's state further: windows use the window as namespace. */
export type Namespace = string | number;

/** One value per key. */
export interface ValueState<T> {
  /** The value, or the descriptor's default (undefined if none) when absent or expired. */
  value(): T | undefined;
  /** Stores `value` under the current key (and namespace), restarting its TTL; `undefined` clears it. */
  update(value: T): void;
  /** Removes the value: `value()` gives the descriptor's default again. */
  clear(): void;
}

/** A list per key. */
export interface ListState<T> {
  /** The elements (a copy: changing it does not change the state). Empty when absent or expired. */
  get(): T[];
  /** Appends one element. With a TTL, the whole list's clock restarts. */
  add(value: T): void;
  /** Appends the elements in order (an empty array changes nothing). With a TTL, the whole list's clock restarts. */
  addAll(values: readonly T[]): void;
  /** Replaces the whole list; an empty array clears it. */
  update(values: readonly T[]): void;
  /** Removes the list: `get()` returns `[]`. */
  clear(): void;
}

/** A map per key. TTL applies per entry. */
export interface MapState<MK, V> {
  /** The value under `key`, or undefined when there is none or it expired. */
  get(key: MK): V | undefined;
  /** Sets `key` to `value`; with a TTL, this entry's clock restarts. */
  put(key: MK, value: V): void;
  /** Puts each `[key, value]` pair in turn (a later pair for the same key wins). */
  putAll(entries: Iterable<readonly [MK, V]>): void;
  /** Deletes the entry of `key`; nothing happens when there is none. */
  remove(key: MK): void;
  /** Whether `key` has a live (unexpired) entry. */
  contains(key: MK): boolean;
  /** The live entries as `[key, value]` pairs, in a new array. The order depends on the backend. */
  entries(): Array<[MK, V]>;
  /** The keys of the live entries, in a new array. The order depends on the backend. */
  keys(): MK[];
  /** The values of the live entries, in a new array. The order depends on the backend. */
  values(): V[];
  /** Whether the map has no live entry. Unlike the other reads, it does not restart a `'read-and-write'` TTL. */
  isEmpty(): boolean;
  /** Removes every entry of the current key's map. */
  clear(): void;
}

/**
 * Broadcast state as the main input of a broadcast step sees it (`processElement`,
 * `onTimer`): read only, so that every parallel instance of the step keeps the same
 * entries. Values are the stored objects themselves: do not change them.
 */
export interface ReadOnlyBroadcastState<MK, V> {
  /** The value under `key`, or undefined when there is none. */
  get(key: MK): V | undefined;
  /** Whether `key` has an entry. */
  contains(key: MK): boolean;
  /** The entries in insertion order (a new array each call). */
  entries(): Array<[MK, V]>;
  /** The keys in insertion order (a new array each call). */
  keys(): MK[];
  /** The values in insertion order (a new array each call). */
  values(): V[];
  /** Whether the state has no entries. */
  isEmpty(): boolean;
  /** The number of entries. */
  readonly size: number;
}

/**
 * Broadcast state as the broadcast input sees it (`processBroadcastElement`): a map per
 * step (not per key), the same on every parallel instance because each one applies
 * the same broadcast records in the same order.
 */
export interface BroadcastState<MK, V> extends ReadOnlyBroadcastState<MK, V> {
  /**
   * Sets `key` to `value`. Derive the value from the broadcast record and this state only
   * (not from the clock or chance), so that every parallel instance stores the same.
   */
  put(key: MK, value: V): void;
  /** Puts each `[key, value]` pair in turn (a later pair for the same key wins). */
  putAll(entries: Iterable<readonly [MK, V]>): void;
  /** Deletes the entry of `key`; nothing happens when there is none. */
  remove(key: MK): void;
  /** Removes every entry. */
  clear(): void;
}

/** A value per key folded with a reduce function as elements are added. */
export interface ReducingState<T> {
  /** The folded value, or undefined when nothing was added (or it expired). */
  get(): T | undefined;
  /** Folds `value` in: the first value is stored as it is, each later one as `reduce(stored, value)`. */
  add(value: T): void;
  /** Drops the folded value; the next `add` starts again. */
  clear(): void;
}

/** An accumulator per key, fed by `add`, read through the aggregate function's `getResult`. */
export interface AggregatingState<IN, OUT> {
  /** `getResult` of the accumulator, or undefined when nothing was added (or it expired). */
  get(): OUT | undefined;
  /** Adds `value` to the accumulator, which the first `add` creates with `createAccumulator`. */
  add(value: IN): void;
  /** Drops the accumulator; the next `add` starts a new one. */
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
  /** A new, empty accumulator: where each key's (or window's) aggregate starts. */
  createAccumulator(): ACC;
  /** Adds `value` and returns the accumulator: `accumulator` itself changed, or a new one. */
  add(value: IN, accumulator: ACC): ACC;
  /**
   * The result an accumulator stands for. It may be read more than once (a window that
   * fires early, then again), so it must leave the accumulator as it is.
   */
  getResult(accumulator: ACC): OUT;
  /**
   * An accumulator holding what `a` and `b` hold; `b` must stay unchanged (a slice of a
   * sliding window is merged into several windows). Required by merging (session)
   * windows and by pre-aggregation, which fail when the step is built without it;
   * sliding windows use it to share slices.
   */
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
  /** The state's name, unique within its step: it names the state in checkpoints. */
  readonly name: string;
  /** Expiry of entries; none when undefined. */
  readonly ttl?: StateTtl | undefined;
  /** Version of the state's shape (default 1); see `migrate`. */
  readonly version?: number | undefined;
  /** Brings an entry stored by an older version to the current shape. */
  readonly migrate?: ((stored: unknown, fromVersion: number) => unknown) | undefined;
}

/** Declares a {@link ValueState}: made by {@link valueState}, given to `ctx.state(…)` in `open`. */
export interface ValueStateDescriptor<T> extends DescriptorBase {
  readonly kind: 'value';
  /** What `value()` returns for a key without a value. */
  readonly defaultValue?: T | undefined;
}
/** Declares a {@link ListState}: made by {@link listState}, given to `ctx.state(…)` in `open`. */
export interface ListStateDescriptor<T> extends DescriptorBase {
  readonly kind: 'list';
  /** Phantom field: carries the element type. */
  readonly __type?: T;
}
/**
 * Declares a {@link MapState}: made by {@link mapState}, given to `ctx.state(…)` in `open`.
 * Broadcast state is declared with one too (`stream.broadcast(descriptor)`, no TTL).
 */
export interface MapStateDescriptor<MK, V> extends DescriptorBase {
  readonly kind: 'map';
  /** Phantom field: carries the key and value types. */
  readonly __type?: [MK, V];
}
/** Declares a {@link ReducingState}: made by {@link reducingState}, given to `ctx.state(…)` in `open`. */
export interface ReducingStateDescriptor<T> extends DescriptorBase {
  readonly kind: 'reducing';
  /** Folds an added value into the stored one: `reduce(stored, added)` is the new stored value. */
  readonly reduce: (a: T, b: T) => T;
}
/** Declares an {@link AggregatingState}: made by {@link aggregatingState}, given to `ctx.state(…)` in `open`. */
export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  readonly kind: 'aggregating';
  /** Creates, feeds and reads the accumulator. */
  readonly aggregate: AggregateFunction<IN, ACC, OUT>;
}

/**
 * Any of the five state descriptors: what `OpenContext.state` and
 * `KeyedStateBackend.getState` take. `kind` tells them apart.
 */
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
  /** The number of key groups; snapshots restore only into a backend with the same number. */
  readonly maxParallelism: number;
  /**
   * Makes `key` current: state objects read and write under it until the next call (the
   * namespace stays as set). The runtime calls it before each record and timer of a keyed step.
   */
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
  /**
   * A copy of every live entry of every state, which later writes do not change: what a
   * checkpoint stores for the step, and what {@link restore} takes back. Taken at the
   * checkpoint barrier, while the step waits.
   */
  snapshot(): KeyedStateSnapshot;
  /**
   * Loads entries of the given key groups only (rescaling hands each subtask its range;
   * `from` and `to` are inclusive, as `keyGroupRange` returns them). Adds to what is there.
   */
  restore(snapshot: KeyedStateSnapshot, keyGroups?: { from: number; to: number }): void;
  /** Drops every state and entry, as well as the declarations: states must be declared again with `getState`. */
  dispose(): void;
  /**
   * Optional: the attempt that used this backend failed. Its state lives on in the job's
   * checkpoints, and the next attempt restores into a backend of its own, so a backend that
   * keeps working files closes and deletes them (a job that restarts often would otherwise
   * fill its disk with the files of dead attempts).
   */
  release?(): Promise<void>;
  /**
   * Optional, for backends that keep their state in files (Flink's incremental RocksDB
   * checkpoints): writes the files of checkpoint `checkpointId` into `dir` (a fresh
   * directory the checkpoint storage keeps while a retained checkpoint lists it) and
   * returns the small handle that restores the state, instead of a {@link snapshot} of
   * every entry. Only what changed since the previous call need be written.
   */
  checkpointTo?(dir: string, checkpointId: number): Promise<KeyedStateHandle>;
  /**
   * Optional, a {@link checkpointTo} in two parts: copies what the checkpoint needs now
   * (at the barrier) and returns its handle at once, with `written`, which resolves once
   * the files are in `dir`. The step goes on processing meanwhile; its acknowledgement
   * waits for `written` (the incremental memory backend).
   */
  captureCheckpoint?(dir: string, checkpointId: number): { readonly handle: KeyedStateHandle; readonly written: Promise<void> };
  /** Optional: figures for metrics (the disk and external backends give them). */
  stats?(): StateBackendStats;
  /** Optional, with {@link checkpointTo}: loads a handle it returned (keeping only `keyGroups` if given). Adds to what is there. */
  restoreHandle?(handle: KeyedStateHandle, keyGroups?: { from: number; to: number }): Promise<void>;
}

/** Figures of a backend for metrics ({@link KeyedStateBackend.stats}). */
export interface StateBackendStats {
  /** Reads its cache answered. */
  readonly cacheHits: number;
  /** Reads that went past the cache (to the disk engine). */
  readonly cacheMisses: number;
  /** Bytes of its working files (0 when it cannot tell). */
  readonly diskBytes: number;
  /** The last checkpoint's flush to the external store: its time, requests and records (external backends). */
  readonly lastFlush?: { readonly flushMs: number; readonly roundTrips: number; readonly records: number } | undefined;
}

/**
 * Keyed state held in files outside the checkpoint (see `KeyedStateBackend.checkpointTo`):
 * what the checkpoint itself stores for such a step.
 */
export interface KeyedStateHandle {
  /**
   * 'disk-chain': the on-disk backends' files (`state/disk/checkpoint-files.ts`);
   * 'redis-chain', 'cassandra-chain': versions of the external backends' records
   * (`state/external/versioned-backend.ts`), `chain` holding version names and `dirs` empty;
   * 'memory-chain': the incremental memory backend's files (`state/memory-chain.ts`).
   */
  readonly format: 'disk-chain' | 'redis-chain' | 'cassandra-chain' | 'memory-chain';
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
