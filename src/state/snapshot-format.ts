/**
 * The keyed-state snapshot format: a state's entries as parallel columns
 * ({@link StateColumns}), built one entry at a time by {@link ColumnsBuilder}; and the
 * readers that take either columns or the entry objects Sluice 0.1.0 wrote
 * ({@link StateEntries}), so that old savepoints keep restoring.
 *
 * Why columns: a checkpoint of a million numeric entries as entry objects meant a million
 * allocations on the task's thread at the barrier, a million objects for V8's serializer to
 * walk, and the reverse on restore (`bench/checkpoints.ts`). As typed arrays the same
 * state is two blocks of memory (keys, values) that are copied whole, and that checkpoint
 * files hold as they are (`checkpoint/chunked-codec.ts`).
 *
 * Incremental snapshots of the memory backend (only what changed since the previous
 * checkpoint) are these same columns, in files of their own: `incremental-memory-backend.ts`
 * and `memory-chain.ts`. The on-disk backend has its own (`disk/lmdb-backend.ts`).
 */
import { SluiceError } from '../errors/index.js';
import { KINDS } from './declarations.js';
import { keyGroupOf } from './key-groups.js';
import type { Key, Namespace, StateColumns, StateEntries, StateEntry, StateKind, StateSnapshot } from './types.js';

/** Namespaces column modes: none yet (all undefined), all numbers (a Float64Array), mixed (an array). */
const NS_NONE = 0;
const NS_NUMBERS = 1;
const NS_ARRAY = 2;

/**
 * Builds one state's columns, an entry at a time. Keys, values and namespaces start as
 * Float64Arrays and become plain arrays at the first entry that is not a number (map and
 * list values start as arrays). Object values are copied once, together, by `finish()`:
 * a snapshot must not change when the state does afterwards. Key groups are kept unless
 * `{ keyGroups: false }` (then `add` ignores its `keyGroup`).
 *
 * @example
 * const b = new ColumnsBuilder('value', 2);
 * b.add('a', keyGroupOf('a'), undefined, 1, Infinity);
 * b.add('b', keyGroupOf('b'), undefined, 2, Infinity);
 * b.finish().keys; // ['a', 'b'] (not all numbers); values: Float64Array [1, 2]
 */
export class ColumnsBuilder {
  private n = 0;
  private cap: number;
  private numKeys: Float64Array | undefined;
  private keys: Key[] | undefined;
  private groups: Uint16Array | undefined;
  private nsMode = NS_NONE;
  private numNs: Float64Array | undefined;
  private ns: Array<Namespace | undefined> | undefined;
  private numValues: Float64Array | undefined;
  private values: unknown[] | undefined;
  private objects = false;
  private expiry: Float64Array | undefined;

  /** `capacity`: the number of entries expected (an upper bound avoids any regrowth). */
  constructor(
    readonly kind: StateKind,
    capacity: number,
    options: { keyGroups?: boolean } = {},
  ) {
    this.cap = Math.max(capacity, 8);
    this.numKeys = new Float64Array(this.cap);
    if (options.keyGroups !== false) this.groups = new Uint16Array(this.cap);
    if (kind === 'map' || kind === 'list') this.values = [];
    else this.numValues = new Float64Array(this.cap);
  }

  /** Adds an entry; `expiresAt` is `Infinity` for none. The value is copied later, by `finish()`. */
  add(key: Key, keyGroup: number, namespace: Namespace | undefined, value: unknown, expiresAt: number): void {
    const i = this.n;
    if (i === this.cap) this.grow();
    const nk = this.numKeys;
    if (nk !== undefined && typeof key === 'number') nk[i] = key;
    else (this.keys ??= this.keysToArray(i)).push(key);
    if (this.groups !== undefined) this.groups[i] = keyGroup;
    if (namespace !== undefined || this.nsMode !== NS_NONE) this.addNamespace(i, namespace);
    const nv = this.numValues;
    if (nv !== undefined && typeof value === 'number') nv[i] = value;
    else {
      (this.values ??= this.valuesToArray(i)).push(value);
      if (typeof value === 'object' && value !== null) this.objects = true;
    }
    if (expiresAt !== Infinity || this.expiry !== undefined) {
      if (this.expiry === undefined) this.expiry = new Float64Array(this.cap).fill(Infinity);
      this.expiry[i] = expiresAt;
    }
    this.n = i + 1;
  }

  /** The columns, trimmed to the entries added (typed arrays of exactly their length: see {@link StateColumns}). */
  finish(): StateColumns {
    const n = this.n;
    const fit = <T extends Float64Array | Uint16Array>(a: T): T => (a.length === n ? a : (a.slice(0, n) as T));
    const columns: {
      kind: StateKind;
      count: number;
      keys: Float64Array | Key[];
      keyGroups?: Uint16Array;
      namespaces?: Float64Array | Array<Namespace | undefined>;
      values: Float64Array | unknown[];
      expiresAt?: Float64Array;
    } = {
      kind: this.kind,
      count: n,
      keys: this.numKeys !== undefined ? fit(this.numKeys) : this.keys!,
      values: this.numValues !== undefined ? fit(this.numValues) : copyObjects(this.values!, this.objects),
    };
    if (this.groups !== undefined) columns.keyGroups = fit(this.groups);
    if (this.nsMode === NS_NUMBERS) columns.namespaces = fit(this.numNs!);
    else if (this.nsMode === NS_ARRAY) columns.namespaces = this.ns!;
    if (this.expiry !== undefined) columns.expiresAt = fit(this.expiry);
    return columns;
  }

  private addNamespace(i: number, namespace: Namespace | undefined): void {
    if (this.nsMode === NS_NUMBERS) {
      if (typeof namespace === 'number') {
        this.numNs![i] = namespace;
        return;
      }
      this.ns = Array.from(this.numNs!.subarray(0, i));
      this.numNs = undefined;
      this.nsMode = NS_ARRAY;
    } else if (this.nsMode === NS_NONE) {
      if (i === 0 && typeof namespace === 'number') {
        this.numNs = new Float64Array(this.cap);
        this.numNs[0] = namespace;
        this.nsMode = NS_NUMBERS;
        return;
      }
      // Filled, not `new Array(i)`: holes would not survive the chunked codec.
      this.ns = new Array<Namespace | undefined>(i).fill(undefined);
      this.nsMode = NS_ARRAY;
    }
    this.ns!.push(namespace);
  }

  private keysToArray(i: number): Key[] {
    const keys: Key[] = Array.from(this.numKeys!.subarray(0, i));
    this.numKeys = undefined;
    return keys;
  }

  private valuesToArray(i: number): unknown[] {
    const values: unknown[] = Array.from(this.numValues!.subarray(0, i));
    this.numValues = undefined;
    return values;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const grown = <T extends Float64Array | Uint16Array>(a: T, fill?: number): T => {
      const b = (a instanceof Float64Array ? new Float64Array(cap) : new Uint16Array(cap)) as T;
      if (fill !== undefined) b.fill(fill);
      b.set(a);
      return b;
    };
    if (this.numKeys !== undefined) this.numKeys = grown(this.numKeys);
    if (this.groups !== undefined) this.groups = grown(this.groups);
    if (this.numNs !== undefined) this.numNs = grown(this.numNs);
    if (this.numValues !== undefined) this.numValues = grown(this.numValues);
    if (this.expiry !== undefined) this.expiry = grown(this.expiry, Infinity);
    this.cap = cap;
  }
}

/**
 * Replaces the object values of `values` (in place) by copies, made in one structuredClone
 * (far cheaper than one per value). Numbers, strings and the like are immutable: no copy.
 */
function copyObjects(values: unknown[], any: boolean): unknown[] {
  if (!any) return values;
  const at: number[] = [];
  const objects: unknown[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'object' && v !== null) {
      at.push(i);
      objects.push(v);
    }
  }
  const copies = structuredClone(objects);
  for (let j = 0; j < at.length; j++) values[at[j]!] = copies[j];
  return values;
}

/** True for a state stored as columns, false for the 0.1.0 entry objects. */
export function isColumns(s: StateSnapshot): s is StateColumns {
  return !Array.isArray((s as StateEntries).entries);
}

/** The type tag of a typed array, also for one made in another realm (a worker, a vm context). */
const tag = (x: unknown): string | undefined => (ArrayBuffer.isView(x) ? (x as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : undefined);
const isColumn = (x: unknown, n: number, typed: string): boolean =>
  (Array.isArray(x) || tag(x) === typed) && (x as ArrayLike<unknown>).length === n;

/**
 * Checks one stored state before a restore changes anything: a known kind, and either an
 * entries array or columns that all have `count` elements. Throws STATE_INCOMPATIBLE.
 */
export function checkStateSnapshot(name: string, s: unknown): asserts s is StateSnapshot {
  const bad = (what: string): SluiceError => new SluiceError('STATE_INCOMPATIBLE', `state '${name}' in the snapshot is malformed (${what})`);
  if (s === null || typeof s !== 'object') throw bad('not an object');
  const kind = (s as { kind?: unknown }).kind;
  if (!KINDS.includes(kind as StateKind)) throw bad(`kind ${String(kind)}`);
  if (Array.isArray((s as StateEntries).entries)) return;
  const c = s as Partial<StateColumns>;
  const n = c.count;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw bad('no entries, no entry count');
  if (!isColumn(c.keys, n, 'Float64Array')) throw bad('keys');
  if (c.keyGroups !== undefined && (tag(c.keyGroups) !== 'Uint16Array' || c.keyGroups.length !== n)) throw bad('key groups');
  if (c.namespaces !== undefined && !isColumn(c.namespaces, n, 'Float64Array')) throw bad('namespaces');
  if (!isColumn(c.values, n, 'Float64Array')) throw bad('values');
  if (c.expiresAt !== undefined && (tag(c.expiresAt) !== 'Float64Array' || c.expiresAt.length !== n)) throw bad('expiry times');
}

/** The key group of each entry: the stored column, or computed from the keys when there is none. */
export function keyGroupsOf(c: StateColumns, maxParallelism: number): Uint16Array {
  if (c.keyGroups !== undefined) return c.keyGroups;
  const groups = new Uint16Array(c.count);
  for (let i = 0; i < c.count; i++) groups[i] = keyGroupOf(c.keys[i]!, maxParallelism);
  return groups;
}

/** Number of entries of a stored state. */
export function entryCount(s: StateSnapshot): number {
  return isColumns(s) ? s.count : s.entries.length;
}

/**
 * Calls `f` with each entry of a stored state, in order, either format. Values are the
 * stored ones (not copies); `expiresAt` is undefined for an entry without. Key groups
 * missing from columns are computed with `maxParallelism` (the snapshot's).
 */
export function forEachEntry(
  s: StateSnapshot,
  maxParallelism: number,
  f: (key: Key, keyGroup: number, namespace: Namespace | undefined, value: unknown, expiresAt: number | undefined) => void,
): void {
  if (!isColumns(s)) {
    for (const e of s.entries) f(e.key, e.keyGroup, e.namespace, e.value, e.expiresAt);
    return;
  }
  const { count, keys, namespaces, values, expiresAt } = s;
  const keyGroups = keyGroupsOf(s, maxParallelism);
  for (let i = 0; i < count; i++) {
    const t = expiresAt?.[i];
    f(keys[i]!, keyGroups[i]!, namespaces?.[i], values[i], t === Infinity ? undefined : t);
  }
}

/**
 * The entries of a stored state as objects, in order, either format (for tests and tools;
 * restores read columns directly). `maxParallelism`: the snapshot's.
 */
export function entriesOf(s: StateSnapshot, maxParallelism: number): StateEntry[] {
  if (!isColumns(s)) return s.entries;
  const out: StateEntry[] = [];
  forEachEntry(s, maxParallelism, (key, keyGroup, namespace, value, expiresAt) => {
    const e: { key: Key; keyGroup: number; namespace?: Namespace; value: unknown; expiresAt?: number } = { key, keyGroup, value };
    if (namespace !== undefined) e.namespace = namespace;
    if (expiresAt !== undefined) e.expiresAt = expiresAt;
    out.push(e);
  });
  return out;
}

/**
 * A stored state with every value replaced by `f(value)`, either format (state migration:
 * `KeyedScope` applies a descriptor's `migrate`). The result's values are a plain array.
 */
export function mapValues(s: StateSnapshot, f: (value: unknown) => unknown): StateSnapshot {
  if (!isColumns(s)) return { ...s, entries: s.entries.map((e) => ({ ...e, value: f(e.value) })) };
  const values: unknown[] = new Array<unknown>(s.count);
  for (let i = 0; i < s.count; i++) values[i] = f(s.values[i]);
  return { ...s, values };
}
