/**
 * The in-memory keyed state backend: state lives in JavaScript Maps on the heap, TTL runs
 * on the injected clock, snapshots are columns of plain data.
 */
import { SluiceError } from '../errors/index.js';
import { checkDeclaration, incompatibleKind, type Declared } from './declarations.js';
import type { Clock } from '../time/clock.js';
import { checkMaxParallelism, DEFAULT_MAX_PARALLELISM } from './key-groups.js';
import {
  KeyContext,
  MemoryAggregatingState,
  MemoryListState,
  MemoryMapState,
  MemoryReducingState,
  MemoryValueState,
  outsideKey,
} from './memory-states.js';
import { checkStateSnapshot, isColumns, keyGroupsOf } from './snapshot-format.js';
import { StateTable } from './state-table.js';
import type { Key, KeyedStateBackend, KeyedStateSnapshot, Namespace, StateColumns, StateDescriptor, StateKind, StateOf } from './types.js';

/** Options of {@link MemoryStateBackend}. */
export interface MemoryStateBackendOptions {
  /** Processing time for TTL. */
  clock: Clock;
  /** Number of key groups; must match the snapshots restored. Default {@link DEFAULT_MAX_PARALLELISM}. */
  maxParallelism?: number;
}



/**
 * Keyed state held in memory. Set the current key (and namespace), then read and write
 * through the state objects from `getState`.
 *
 * - Without TTL or namespace a value-state read or write is one `Map.get`/`Map.set`.
 * - TTL is processing time from the clock: list state expires as a whole, map state per
 *   entry. An expired value is never returned; expired entries are deleted when met and
 *   by an incremental sweep of a few entries per TTL'd write.
 * - `restore` adds entries (of a key-group range, if given) to what is there: call it on
 *   a fresh backend, once per snapshot when several old subtasks' state merge into one.
 *   It may come before or after `getState` declares the states.
 * - Snapshots are plain data in columns (`StateColumns`, `snapshot-format.ts`): typed
 *   arrays where keys or values are all numbers, else arrays. Object values are
 *   structured-cloned: class instances lose their prototype.
 *
 * @example
 * const backend = new MemoryStateBackend({ clock: new ManualClock() });
 * const count = backend.getState(valueState<number>('count', { defaultValue: 0 }));
 * backend.setCurrentKey('user-1');
 * count.update(count.value()! + 1); // user-1 -> 1
 */
export class MemoryStateBackend implements KeyedStateBackend {
  readonly maxParallelism: number;
  protected readonly clock: Clock;
  private readonly ctx = new KeyContext();
  protected readonly tables = new Map<string, StateTable>();
  private readonly declared = new Map<string, Declared>();

  constructor(options: MemoryStateBackendOptions) {
    if (options?.clock === undefined) {
      throw new SluiceError('INVALID_ARGUMENT', 'MemoryStateBackend needs a clock', { hint: 'Pass { clock } (SystemClock in production, ManualClock in tests).' });
    }
    this.clock = options.clock;
    this.maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    checkMaxParallelism(this.maxParallelism);
  }

  setCurrentKey(key: Key): void {
    this.ctx.key = key;
  }

  getCurrentKey(): Key {
    const key = this.ctx.key;
    if (key === undefined) throw new SluiceError('STATE_OUTSIDE_KEY', 'there is no current key');
    return key;
  }

  setCurrentNamespace(namespace: Namespace | undefined): void {
    this.ctx.namespace = namespace;
  }

  getState<D extends StateDescriptor>(descriptor: D): StateOf<D> {
    const { name, ttlMs, updateOn, existing } = checkDeclaration(descriptor, this.declared);
    if (existing !== undefined) return existing as StateOf<D>;
    const table = this.tableFor(name, descriptor.kind);
    if (table.kind !== descriptor.kind) throw incompatibleKind(name, table.kind, descriptor.kind);
    table.bind(ttlMs, updateOn === 'read-and-write');
    const state = this.createState(descriptor, table);
    this.declared.set(name, { state, kind: descriptor.kind, ttlMs, updateOn });
    return state as StateOf<D>;
  }

  /** The table of state `name`, made (with `kind`) if there is none yet. */
  protected tableFor(name: string, kind: StateKind): StateTable {
    let table = this.tables.get(name);
    if (table === undefined) this.tables.set(name, (table = new StateTable(name, kind, this.clock)));
    return table;
  }

  private createState(d: StateDescriptor, table: StateTable): unknown {
    switch (d.kind) {
      case 'value':
        return new MemoryValueState(this.ctx, table, d.defaultValue);
      case 'list':
        return new MemoryListState(this.ctx, table);
      case 'map':
        return new MemoryMapState(this.ctx, table, this.clock);
      case 'reducing':
        return new MemoryReducingState(this.ctx, table, d.reduce);
      case 'aggregating':
        return new MemoryAggregatingState(this.ctx, table, d.aggregate);
    }
  }

  keys(stateName: string): Key[] {
    return this.tables.get(stateName)?.liveKeys() ?? [];
  }

  namespaces(stateName: string): Namespace[] {
    const key = this.ctx.key;
    if (key === undefined) throw outsideKey(stateName);
    return this.tables.get(stateName)?.liveNamespaces(key) ?? [];
  }

  /** Live (key, namespace) slots over all states; a map state's slot counts once however many entries it has. Equals the entry count of a snapshot. */
  size(): number {
    let n = 0;
    for (const table of this.tables.values()) n += table.liveCount();
    return n;
  }

  /**
   * The live state as columns (`StateColumns`: typed arrays where keys or values are all
   * numbers), built in one pass per state. Object values are copied, so later writes never
   * reach the snapshot; numbers and strings need no copy. Without key groups: a restore
   * that filters by key group computes them (see `StateColumns.keyGroups`).
   */
  snapshot(): KeyedStateSnapshot {
    const states: Record<string, StateColumns> = {};
    try {
      for (const [name, table] of this.tables) states[name] = table.exportColumns();
      return { maxParallelism: this.maxParallelism, states };
    } catch (e) {
      throw new SluiceError('STATE_NOT_SERIALIZABLE', `a state value could not be copied into a snapshot: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Takes columns (what `snapshot()` gives) or the entry objects of Sluice 0.1.0 snapshots. */
  restore(snapshot: KeyedStateSnapshot, keyGroups?: { from: number; to: number }): void {
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
    const from = keyGroups?.from ?? 0;
    const to = keyGroups?.to ?? this.maxParallelism - 1;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to >= this.maxParallelism || from > to) {
      throw new SluiceError('INVALID_ARGUMENT', `key group range [${from}, ${to}] is not inside [0, ${this.maxParallelism - 1}]`);
    }
    const names = Object.keys(snapshot.states);
    // Check everything before changing anything, so a bad snapshot leaves the backend as it was.
    for (const name of names) {
      const stored = snapshot.states[name];
      checkStateSnapshot(name, stored);
      const table = this.tables.get(name);
      if (table !== undefined && table.kind !== stored.kind) throw incompatibleKind(name, stored.kind, table.kind);
    }
    const now = this.clock.now();
    const everyGroup = from === 0 && to === this.maxParallelism - 1;
    for (const name of names) {
      const stored = snapshot.states[name]!;
      const table = this.tableFor(name, stored.kind);
      if (isColumns(stored)) {
        table.loadColumns(stored, everyGroup ? undefined : keyGroupsOf(stored, this.maxParallelism), from, to, now);
        continue;
      }
      const chosen = stored.entries.filter(
        (e) => e.keyGroup >= from && e.keyGroup <= to && (e.expiresAt === undefined || e.expiresAt > now),
      );
      if (chosen.length === 0) continue;
      // Copy the values so that using the state never changes the snapshot (it may be restored again).
      const values = structuredClone(chosen.map((e) => e.value));
      for (let i = 0; i < chosen.length; i++) {
        const e = chosen[i]!;
        table.load(e.key, e.namespace, values[i], e.expiresAt, now);
      }
    }
  }

  dispose(): void {
    for (const table of this.tables.values()) table.clearAll();
    this.tables.clear();
    this.declared.clear();
    this.ctx.key = undefined;
    this.ctx.namespace = undefined;
  }
}
