import { SluiceError } from '../../errors/index.js';
import type { BroadcastState, MapStateDescriptor, ReadOnlyBroadcastState } from '../../state/types.js';

/** Broadcast state as a checkpoint holds it: per state name, its entries in insertion order. */
export interface BroadcastStateSnapshot {
  readonly states: Record<string, { readonly entries: Array<[unknown, unknown]>; readonly version?: number }>;
}

/** A broadcast state descriptor: map state, with no TTL. */
export type BroadcastStateDescriptor = MapStateDescriptor<any, any>;

/**
 * Checks the descriptors given to `stream.broadcast(…)`: at least one, each a map state
 * descriptor without TTL, names unique. Returns them frozen.
 */
export function checkBroadcastDescriptors(descriptors: readonly unknown[]): readonly BroadcastStateDescriptor[] {
  if (descriptors.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', 'broadcast() needs at least one map state descriptor for the broadcast state', {
      hint: "Declare the state the broadcast records fill: stream.broadcast(mapState<string, Rule>('rules')).",
    });
  }
  const names = new Set<string>();
  for (const d of descriptors as Array<Partial<BroadcastStateDescriptor> | null | undefined>) {
    if (d === null || typeof d !== 'object' || d.kind !== 'map' || typeof d.name !== 'string') {
      const got = d === null || typeof d !== 'object' ? String(d) : `${String(d.kind)} state '${String(d.name)}'`;
      throw new SluiceError('INVALID_ARGUMENT', `broadcast() takes map state descriptors (mapState(name)), got ${got}`);
    }
    // Entries that expire on each instance's own clock could differ between instances.
    if (d.ttl !== undefined) {
      throw new SluiceError('INVALID_ARGUMENT', `broadcast state '${d.name}' has a TTL; broadcast state does not expire (as in Flink)`, {
        hint: 'Remove the ttl option, and remove stale entries in processBroadcastElement.',
      });
    }
    if (names.has(d.name)) throw new SluiceError('INVALID_ARGUMENT', `broadcast() got two descriptors named '${d.name}'`);
    names.add(d.name);
  }
  return Object.freeze([...(descriptors as BroadcastStateDescriptor[])]);
}

/** The reads, shared by both views. */
class ReadView<MK, V> implements ReadOnlyBroadcastState<MK, V> {
  constructor(
    protected readonly map: Map<MK, V>,
    protected readonly name: string,
  ) {}
  get(key: MK): V | undefined {
    return this.map.get(key);
  }
  contains(key: MK): boolean {
    return this.map.has(key);
  }
  entries(): Array<[MK, V]> {
    return [...this.map];
  }
  keys(): MK[] {
    return [...this.map.keys()];
  }
  values(): V[] {
    return [...this.map.values()];
  }
  isEmpty(): boolean {
    return this.map.size === 0;
  }
  get size(): number {
    return this.map.size;
  }
}

/** What processElement and onTimer get: the writes exist only to throw a clear error when a cast reaches them. */
class ReadOnlyView<MK, V> extends ReadView<MK, V> {
  constructor(
    map: Map<MK, V>,
    name: string,
    private readonly uid: string,
  ) {
    super(map, name);
  }
  put(): never {
    throw this.refuse('put');
  }
  putAll(): never {
    throw this.refuse('putAll');
  }
  remove(): never {
    throw this.refuse('remove');
  }
  clear(): never {
    throw this.refuse('clear');
  }
  private refuse(method: string): SluiceError {
    return new SluiceError(
      'BROADCAST_STATE_READ_ONLY',
      `step '${this.uid}': broadcast state '${this.name}' is read only in processElement and onTimer, but ${method}() was called; only processBroadcastElement may change it`,
      { step: this.uid },
    );
  }
}

class WritableView<MK, V> extends ReadView<MK, V> implements BroadcastState<MK, V> {
  put(key: MK, value: V): void {
    this.map.set(key, value);
  }
  putAll(entries: Iterable<readonly [MK, V]>): void {
    for (const [k, v] of entries) this.map.set(k, v);
  }
  remove(key: MK): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * The broadcast state of one parallel instance of a broadcast step: one in-memory map
 * per declared descriptor. Every instance receives every broadcast record, in order, and
 * only `processBroadcastElement` writes, so all instances hold the same entries; that is
 * why rescaling may take the state of any one old instance (see `restore`).
 */
export class BroadcastStates {
  private readonly maps = new Map<string, Map<unknown, unknown>>();
  private readonly declared = new Map<string, BroadcastStateDescriptor>();
  private readonly readOnlyViews = new Map<string, ReadOnlyView<unknown, unknown>>();
  private readonly writableViews = new Map<string, WritableView<unknown, unknown>>();
  /** Versions of restored states that no descriptor declares (kept for the next snapshot). */
  private readonly undeclaredVersions = new Map<string, number>();

  constructor(
    private readonly uid: string,
    descriptors: readonly BroadcastStateDescriptor[],
  ) {
    for (const d of descriptors) {
      this.declared.set(d.name, d);
      this.maps.set(d.name, new Map());
    }
  }

  /** The view for processElement and onTimer. One object per state: no allocation per call. */
  readOnly<MK, V>(descriptor: MapStateDescriptor<MK, V>): ReadOnlyBroadcastState<MK, V> {
    const name = this.check(descriptor);
    let view = this.readOnlyViews.get(name);
    if (view === undefined) this.readOnlyViews.set(name, (view = new ReadOnlyView(this.maps.get(name)!, name, this.uid)));
    return view as unknown as ReadOnlyBroadcastState<MK, V>;
  }

  /** The view for processBroadcastElement. */
  writable<MK, V>(descriptor: MapStateDescriptor<MK, V>): BroadcastState<MK, V> {
    const name = this.check(descriptor);
    let view = this.writableViews.get(name);
    if (view === undefined) this.writableViews.set(name, (view = new WritableView(this.maps.get(name)!, name)));
    return view as unknown as BroadcastState<MK, V>;
  }

  /** A copy of every state's entries (later writes never reach it). */
  snapshot(): BroadcastStateSnapshot {
    const states: Record<string, { entries: Array<[unknown, unknown]>; version?: number }> = {};
    for (const [name, map] of this.maps) {
      let entries: Array<[unknown, unknown]>;
      try {
        entries = structuredClone([...map]);
      } catch (e) {
        throw new SluiceError('STATE_NOT_SERIALIZABLE', `step '${this.uid}': broadcast state '${name}' could not be copied into a snapshot: ${(e as Error).message}`, {
          step: this.uid,
          cause: e,
        });
      }
      const version = this.declared.has(name) ? this.declared.get(name)!.version : this.undeclaredVersions.get(name);
      states[name] = version === undefined ? { entries } : { entries, version };
    }
    return { states };
  }

  /**
   * Replaces the state with a snapshot's (a copy of it: the snapshot may be restored
   * again). A state stored by an older version than its descriptor's goes through the
   * descriptor's `migrate` (given the `[key, value]` pairs, as for keyed map state).
   * States the snapshot has but no descriptor declares are kept, and go into the next
   * snapshot: a later version of the job may declare them again.
   */
  restore(snapshot: BroadcastStateSnapshot): void {
    if (snapshot === null || typeof snapshot !== 'object' || snapshot.states === null || typeof snapshot.states !== 'object') {
      throw new SluiceError('STATE_INCOMPATIBLE', `step '${this.uid}': the stored broadcast state is malformed`, { step: this.uid });
    }
    const restored = new Map<string, Array<[unknown, unknown]>>();
    // Check and migrate everything before changing anything.
    for (const [name, stored] of Object.entries(snapshot.states)) {
      if (stored === null || typeof stored !== 'object' || !Array.isArray(stored.entries)) {
        throw new SluiceError('STATE_INCOMPATIBLE', `step '${this.uid}': broadcast state '${name}' in the snapshot is malformed`, { step: this.uid });
      }
      restored.set(name, this.migrate(name, structuredClone(stored.entries), stored.version ?? 1));
    }
    this.undeclaredVersions.clear();
    for (const map of this.maps.values()) map.clear();
    for (const [name, entries] of restored) {
      let map = this.maps.get(name);
      if (map === undefined) this.maps.set(name, (map = new Map()));
      const version = snapshot.states[name]!.version;
      if (!this.declared.has(name) && version !== undefined) this.undeclaredVersions.set(name, version);
      for (const [k, v] of entries) map.set(k, v);
    }
  }

  private migrate(name: string, entries: Array<[unknown, unknown]>, from: number): Array<[unknown, unknown]> {
    const d = this.declared.get(name);
    const to = d?.version ?? 1;
    if (d === undefined || from === to) return entries;
    if (to < from) {
      throw new SluiceError('CHECKPOINT_INVALID', `step '${this.uid}': broadcast state '${name}' was stored by version ${from} but is declared as version ${to}`, {
        step: this.uid,
        hint: 'Restore with a job whose state descriptor has the same or a newer version (with a migrate function).',
      });
    }
    if (!d.migrate) {
      throw new SluiceError('CHECKPOINT_INVALID', `step '${this.uid}': broadcast state '${name}' is version ${to} but was stored by version ${from}, and has no migrate function`, {
        step: this.uid,
        hint: `Give the descriptor of '${name}' a migrate(stored, fromVersion) function.`,
      });
    }
    const migrated = d.migrate(entries, from);
    if (!Array.isArray(migrated)) {
      throw new SluiceError('CHECKPOINT_INVALID', `step '${this.uid}': the migrate function of broadcast state '${name}' must return an array of [key, value] pairs`, {
        step: this.uid,
      });
    }
    return migrated as Array<[unknown, unknown]>;
  }

  private check(descriptor: MapStateDescriptor<unknown, unknown>): string {
    const name = (descriptor as { name?: unknown } | null | undefined)?.name;
    if (typeof name === 'string' && this.declared.has(name)) return name;
    const known = [...this.declared.keys()].map((n) => `'${n}'`).join(', ');
    throw new SluiceError(
      'BROADCAST_STATE_UNDECLARED',
      `step '${this.uid}': broadcast state ${typeof name === 'string' ? `'${name}'` : String(descriptor)} was not declared; this step's broadcast states are ${known}`,
      { step: this.uid },
    );
  }
}
