/**
 * The storage of one named state in the memory backend: a slot per (key, namespace), with
 * processing-time TTL. Internal to the memory backend.
 *
 * Layout (chosen for the hot path, see `memory-backend.test.ts` "fast path"):
 * - `plain`: key -> slot, for state without a namespace. Without a TTL a slot holds the
 *   bare value (no wrapper), so a value-state read is one `Map.get`.
 * - `scoped`: key -> namespace -> slot, for namespaced state (windows). Kept apart so
 *   namespaces cost nothing on the plain path, and a key's namespaces are one lookup away.
 * - With a TTL, a slot holds a {@link Cell} `{ v, t }` (t: the time it expires). For map
 *   state the slot is always a `Map` and the cells sit inside it, one per map entry.
 *
 * Expired cells are never returned: every read checks `t`. They are deleted when met (on
 * access, in `keys()`, `size()`, snapshots) and by an incremental sweep that checks a few
 * slots on each TTL'd write, like Flink's incremental cleanup. Only writes add slots, so a
 * sweep of two slots per write keeps pace with growth: memory does not grow with keys that
 * are never touched again (see "incremental cleanup" in `memory-backend.test.ts`).
 *
 * Incremental checkpoints (`memory-checkpoints.ts`): once `tracking` is on, every change of a
 * slot (a write, a removal, a TTL refreshed by a read) names it in `dirtyPlain` or
 * `dirtyScoped`, so a checkpoint copies only those slots. Slots deleted because they
 * expired are not named: the files still hold them with their expiry time, and a restore
 * skips expired entries.
 */
import type { Clock } from '../time/clock.js';
import { ColumnsBuilder } from './snapshot-format.js';
import type { Key, Namespace, StateColumns, StateKind } from './types.js';

/** A value with the processing time at which it expires (`Infinity`: never). */
export interface Cell {
  v: unknown;
  t: number;
}

/** Slots checked by the incremental sweep per TTL'd write (more than one, so it outpaces growth). */
const CLEANUP_STEPS = 2;

export class StateTable {
  readonly plain = new Map<Key, unknown>();
  readonly scoped = new Map<Key, Map<Namespace, unknown>>();
  /**
   * True when values (for map state: map entries) are stored in cells: with a TTL, and for
   * restored state with expiry times whose descriptor has not been declared yet (cells keep
   * the restored expiry times until `bind` knows the TTL). Restored state without expiry
   * times stays bare until then: a million restored counts are a million `Map.set`s, not a
   * million cells made and unmade (`loadColumns`).
   */
  cells = false;
  ttlMs = 0;
  refreshOnRead = false;
  bound = false;
  /** True while incremental checkpoints need the slots changed since the last one (see {@link touch}). */
  tracking = false;
  /** Plain slots changed since the last checkpoint (while `tracking`). */
  dirtyPlain = new Set<Key>();
  /** Namespaced slots changed since the last checkpoint (while `tracking`), key -> namespaces. */
  dirtyScoped = new Map<Key, Set<Namespace>>();
  /** Set when something changed that the dirty sets cannot name (a TTL bound after a restore): the next checkpoint must be full. */
  changedUntracked = false;
  private sweepPhase: 0 | 1 = 0;
  private plainSweep: Iterator<[Key, unknown]> | undefined;
  private scopedSweep: Iterator<[Key, Map<Namespace, unknown>]> | undefined;

  constructor(
    readonly name: string,
    readonly kind: StateKind,
    private readonly clock: Clock,
  ) {}

  /**
   * Fixes the TTL once the descriptor is known, converting what restore put here.
   * `ttlMs` 0 means no TTL.
   */
  bind(ttlMs: number, refreshOnRead: boolean): void {
    const now = this.clock.now();
    const wasCells = this.cells;
    this.ttlMs = ttlMs;
    this.refreshOnRead = refreshOnRead;
    this.cells = ttlMs > 0;
    this.bound = true;
    if (this.slotCount() > 0) this.changedUntracked = true;
    if (!wasCells) {
      // Restored bare values of a state declared with a TTL: it starts now, as in `load`.
      if (this.cells) this.wrapAll(now + ttlMs);
      return;
    }
    const convert = (m: Map<unknown, unknown>): void => {
      for (const [k, s] of m) {
        const cell = s as Cell;
        if (cell.t <= now) m.delete(k);
        else if (!this.cells) m.set(k, cell.v);
        else if (cell.t === Infinity) cell.t = now + ttlMs;
      }
    };
    this.forEachSlotMap((m) => {
      if (this.kind !== 'map') return convert(m);
      for (const [k, entries] of m) {
        convert(entries as Map<unknown, unknown>);
        if ((entries as Map<unknown, unknown>).size === 0) m.delete(k);
      }
    });
  }

  /** The slot's value for (key, ns), or undefined; drops it if expired, refreshes it on read if so configured. */
  read(key: Key, ns: Namespace | undefined): unknown {
    const m = ns === undefined ? this.plain : this.scoped.get(key);
    if (m === undefined) return undefined;
    const k = ns === undefined ? key : ns;
    const s = m.get(k);
    if (!this.cells || this.kind === 'map' || s === undefined) return s;
    const now = this.clock.now();
    const cell = s as Cell;
    if (cell.t <= now) {
      this.removeFrom(m, k, key, ns);
      return undefined;
    }
    if (this.refreshOnRead) {
      cell.t = now + this.ttlMs;
      if (this.tracking) this.touch(key, ns);
    }
    return cell.v;
  }

  /** Like {@link read} but never refreshes the TTL: for read-modify-write, which refreshes on the write. */
  readForWrite(key: Key, ns: Namespace | undefined): unknown {
    const m = ns === undefined ? this.plain : this.scoped.get(key);
    if (m === undefined) return undefined;
    const k = ns === undefined ? key : ns;
    const s = m.get(k);
    if (!this.cells || this.kind === 'map' || s === undefined) return s;
    const cell = s as Cell;
    if (cell.t <= this.clock.now()) {
      this.removeFrom(m, k, key, ns);
      return undefined;
    }
    return cell.v;
  }

  /** Stores a value for (key, ns), restarting its TTL. */
  write(key: Key, ns: Namespace | undefined, value: unknown): void {
    const ttl = this.cells && this.kind !== 'map';
    const now = ttl ? this.clock.now() : 0;
    // Sweep before looking up: the sweep may delete (and so detach) the map we would use.
    if (ttl) this.sweep(now);
    if (this.tracking) this.touch(key, ns);
    let m: Map<unknown, unknown> | undefined;
    let k: unknown;
    if (ns === undefined) {
      m = this.plain;
      k = key;
    } else {
      m = this.scoped.get(key);
      if (m === undefined) this.scoped.set(key, (m = new Map()));
      k = ns;
    }
    if (!ttl) {
      m.set(k, value);
      return;
    }
    const cell = m.get(k) as Cell | undefined;
    if (cell === undefined) m.set(k, { v: value, t: now + this.ttlMs });
    else {
      cell.v = value;
      cell.t = now + this.ttlMs;
    }
  }

  remove(key: Key, ns: Namespace | undefined): void {
    if (this.tracking) this.touch(key, ns);
    if (ns === undefined) this.plain.delete(key);
    else {
      const m = this.scoped.get(key);
      if (m !== undefined) this.removeFrom(m, ns, key, ns);
    }
  }

  /** Whether a slot holds anything live; deletes expired cells inside a map slot on the way. */
  isLive(slot: unknown, now: number): boolean {
    if (this.kind === 'map') {
      const m = slot as Map<unknown, unknown>;
      if (this.cells) {
        for (const [k, c] of m) if ((c as Cell).t <= now) m.delete(k);
      }
      return m.size > 0;
    }
    return !this.cells || (slot as Cell).t > now;
  }

  /** Keys with a live slot in any namespace. */
  liveKeys(): Key[] {
    const now = this.clock.now();
    const out: Key[] = [];
    for (const [key, slot] of this.plain) {
      if (this.isLive(slot, now)) out.push(key);
      else this.plain.delete(key);
    }
    for (const [key, byNs] of this.scoped) {
      this.purgeNamespaces(key, byNs, now);
      if (byNs.size > 0 && !this.plain.has(key)) out.push(key);
    }
    return out;
  }

  /** Live namespaces of one key. */
  liveNamespaces(key: Key): Namespace[] {
    const byNs = this.scoped.get(key);
    if (byNs === undefined) return [];
    if (this.cells) this.purgeNamespaces(key, byNs, this.clock.now()); // only TTL'd state expires
    return [...byNs.keys()];
  }

  /**
   * Number of live slots. Without cells nothing expires (and map state drops a slot with
   * its last entry), so that is the slot count: metrics sample it every second, and a walk
   * over a million keys took 18-30 ms each time.
   */
  liveCount(): number {
    if (!this.cells) return this.slotCount();
    const now = this.clock.now();
    let n = 0;
    for (const [key, slot] of this.plain) {
      if (this.isLive(slot, now)) n++;
      else this.plain.delete(key);
    }
    for (const [key, byNs] of this.scoped) {
      this.purgeNamespaces(key, byNs, now);
      n += byNs.size;
    }
    return n;
  }

  /** Number of slots, expired ones included: cheap (one step per namespaced key). */
  slotCount(): number {
    let n = this.plain.size;
    this.scoped.forEach((byNs) => (n += byNs.size));
    return n;
  }

  /**
   * Names slot (key, ns) as changed since the last checkpoint. Past `dirtyLimit` slots it
   * stops naming and sets `changedUntracked` instead (the next checkpoint is full): a
   * `Set.add` of a new key into a set of a million took ~0.4 µs, which a workload that
   * changes every key between checkpoints would pay for nothing.
   */
  touch(key: Key, ns: Namespace | undefined): void {
    if (ns === undefined) {
      const d = this.dirtyPlain;
      d.add(key);
      if (d.size + this.scopedNamed > this.dirtyLimit) this.overflow();
      return;
    }
    let set = this.dirtyScoped.get(key);
    if (set === undefined) this.dirtyScoped.set(key, (set = new Set()));
    const before = set.size;
    set.add(ns);
    if (set.size !== before && ++this.scopedNamed + this.dirtyPlain.size > this.dirtyLimit) this.overflow();
  }

  /** Namespaced slots named since the last checkpoint. */
  private scopedNamed = 0;
  /** How many slots a checkpoint's changes may name before a full copy is cheaper (set by {@link startTracking}). */
  private dirtyLimit = Infinity;

  private overflow(): void {
    this.tracking = false;
    this.changedUntracked = true;
    this.dirtyPlain = new Set();
    this.dirtyScoped = new Map();
  }

  /** Number of slots named as changed. */
  dirtyCount(): number {
    let n = this.dirtyPlain.size;
    this.dirtyScoped.forEach((set) => (n += set.size));
    return n;
  }

  /** Forgets the changed slots (a checkpoint has copied them, or copied everything) and names the next ones, up to `limit`. */
  startTracking(limit: number): void {
    if (this.dirtyPlain.size > 0) this.dirtyPlain = new Set();
    if (this.dirtyScoped.size > 0) this.dirtyScoped = new Map();
    this.changedUntracked = false;
    this.scopedNamed = 0;
    this.dirtyLimit = limit;
    this.tracking = true;
  }

  /**
   * Live slots as snapshot columns, without key groups (values copied where they are
   * objects). One pass over the Maps with `forEach`, which allocates nothing per entry (a
   * `for…of` over a Map makes an entry array per step; measured 5-10x slower over a
   * million keys).
   */
  exportColumns(): StateColumns {
    const now = this.clock.now();
    const out = new ColumnsBuilder(this.kind, this.slotCount(), { keyGroups: false });
    if (this.kind !== 'map' && !this.cells) {
      this.plain.forEach((value, key) => out.add(key, 0, undefined, value, Infinity));
      this.scoped.forEach((byNs, key) => byNs.forEach((value, ns) => out.add(key, 0, ns, value, Infinity)));
      return out.finish();
    }
    this.plain.forEach((slot, key) => {
      if (!this.exportSlot(out, key, undefined, slot, now)) this.plain.delete(key);
    });
    this.scoped.forEach((byNs, key) => {
      this.purgeNamespaces(key, byNs, now);
      byNs.forEach((slot, ns) => this.exportSlot(out, key, ns, slot, now));
    });
    return out.finish();
  }

  /**
   * The slots changed since the last checkpoint (see {@link touch}): the live ones as
   * columns (`puts`, values copied), the others (deleted or expired) as the keys and
   * namespaces of `removed` (values 0). Forgets them: the next call starts afresh.
   */
  exportChanges(): { puts: StateColumns; removed: StateColumns } {
    const now = this.clock.now();
    const n = this.dirtyCount();
    const puts = new ColumnsBuilder(this.kind, n, { keyGroups: false });
    const removed = new ColumnsBuilder('value', n, { keyGroups: false });
    this.dirtyPlain.forEach((key) => {
      const slot = this.plain.get(key);
      if (slot === undefined || !this.exportSlot(puts, key, undefined, slot, now)) removed.add(key, 0, undefined, 0, Infinity);
    });
    this.dirtyScoped.forEach((set, key) => {
      const byNs = this.scoped.get(key);
      set.forEach((ns) => {
        const slot = byNs?.get(ns);
        if (slot === undefined || !this.exportSlot(puts, key, ns, slot, now)) removed.add(key, 0, ns, 0, Infinity);
      });
    });
    return { puts: puts.finish(), removed: removed.finish() };
  }

  /** Adds a slot to `out` if it is live (for map state: its live entries); false when it is not. */
  private exportSlot(out: ColumnsBuilder, key: Key, ns: Namespace | undefined, slot: unknown, now: number): boolean {
    const cells = this.cells;
    if (this.kind === 'map') {
      if (!this.isLive(slot, now)) return false;
      const pairs: unknown[] = [];
      (slot as Map<unknown, unknown>).forEach((c, mk) => {
        if (!cells) pairs.push([mk, c]);
        else if ((c as Cell).t === Infinity) pairs.push([mk, (c as Cell).v]);
        else pairs.push([mk, (c as Cell).v, (c as Cell).t]);
      });
      out.add(key, 0, ns, pairs, Infinity);
      return true;
    }
    if (!cells) {
      out.add(key, 0, ns, slot, Infinity);
      return true;
    }
    const cell = slot as Cell;
    if (cell.t <= now) return false;
    out.add(key, 0, ns, cell.v, cell.t);
    return true;
  }

  /**
   * Loads entries from columns, skipping expired ones and, with `groups` (each entry's key
   * group), those outside key groups `[from, to]`. Object values are copied (in one
   * structuredClone): the snapshot may be restored again. Plain values of a state without
   * TTL (the common case: counts, sums) go straight into the Map, with no allocation per
   * entry.
   */
  loadColumns(c: StateColumns, groups: Uint16Array | undefined, from: number, to: number, now: number): void {
    const { count, keys, namespaces, values, expiresAt } = c;
    const taken = (i: number): boolean => {
      if (groups !== undefined) {
        const g = groups[i]!;
        if (g < from || g > to) return false;
      }
      return expiresAt === undefined || expiresAt[i]! > now;
    };
    let copies: unknown[] | undefined;
    if (Array.isArray(values)) {
      const objects: unknown[] = [];
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v === 'object' && v !== null && taken(i)) objects.push(v);
      }
      if (objects.length > 0) copies = structuredClone(objects);
    }
    // The same filter, in the same order, meets the copies in the order they were made.
    let j = 0;
    if (!this.bound && !this.cells && expiresAt !== undefined) this.wrapAll(Infinity);
    if (this.kind !== 'map' && !this.cells && namespaces === undefined) {
      const plain = this.plain;
      for (let i = 0; i < count; i++) {
        if (!taken(i)) continue;
        let v = values[i];
        if (copies !== undefined && typeof v === 'object' && v !== null) v = copies[j++];
        plain.set(keys[i]!, v);
      }
      return;
    }
    for (let i = 0; i < count; i++) {
      if (!taken(i)) continue;
      let v = values[i];
      if (copies !== undefined && typeof v === 'object' && v !== null) v = copies[j++];
      const t = expiresAt?.[i];
      this.load(keys[i]!, namespaces?.[i], v, t === Infinity ? undefined : t, now);
    }
  }

  /**
   * Loads one restored entry (its value already copied). Entries without `expiresAt` get
   * a fresh TTL if the state has one.
   */
  load(key: Key, ns: Namespace | undefined, value: unknown, expiresAt: number | undefined, now: number): void {
    if (!this.bound && !this.cells) {
      const expires = this.kind === 'map' ? (value as Array<[unknown, unknown, number?]>).some((e) => e[2] !== undefined) : expiresAt !== undefined;
      if (expires) this.wrapAll(Infinity);
    }
    const fresh = this.bound && this.cells ? now + this.ttlMs : Infinity;
    const wrap = (v: unknown, t: number | undefined): unknown => (this.cells ? { v, t: t ?? fresh } : v);
    let slot: unknown;
    if (this.kind === 'map') {
      const m = new Map<unknown, unknown>();
      for (const e of value as Array<[unknown, unknown, number?]>) {
        const t = e[2];
        if (t === undefined || t > now) m.set(e[0], wrap(e[1], t));
      }
      if (m.size === 0) return;
      slot = m;
    } else {
      if (expiresAt !== undefined && expiresAt <= now) return;
      slot = wrap(value, expiresAt);
    }
    if (ns === undefined) this.plain.set(key, slot);
    else {
      let m = this.scoped.get(key);
      if (m === undefined) this.scoped.set(key, (m = new Map()));
      m.set(ns, slot);
    }
  }

  clearAll(): void {
    this.plain.clear();
    this.scoped.clear();
    this.plainSweep = undefined;
    this.scopedSweep = undefined;
  }

  /**
   * The incremental sweep: checks a few slots, resuming where the last call stopped, and
   * deletes the expired ones. Map iterators stay valid while entries are deleted.
   */
  sweep(now: number): void {
    for (let i = 0; i < CLEANUP_STEPS; i++) {
      if (this.sweepPhase === 0) {
        this.plainSweep ??= this.plain.entries();
        const r = this.plainSweep.next();
        if (r.done) {
          this.plainSweep = undefined;
          this.sweepPhase = 1;
        } else if (!this.isLive(r.value[1], now)) this.plain.delete(r.value[0]);
      } else {
        this.scopedSweep ??= this.scoped.entries();
        const r = this.scopedSweep.next();
        if (r.done) {
          this.scopedSweep = undefined;
          this.sweepPhase = 0;
        } else this.purgeNamespaces(r.value[0], r.value[1], now);
      }
    }
  }

  private purgeNamespaces(key: Key, byNs: Map<Namespace, unknown>, now: number): void {
    for (const [ns, slot] of byNs) if (!this.isLive(slot, now)) byNs.delete(ns);
    if (byNs.size === 0) this.scoped.delete(key);
  }

  private removeFrom(m: Map<unknown, unknown>, k: unknown, key: Key, ns: Namespace | undefined): void {
    if (this.tracking) this.touch(key, ns);
    m.delete(k);
    if (ns !== undefined && m.size === 0) this.scoped.delete(key);
  }

  /**
   * Puts every bare value (for map state: every map entry) in a cell expiring at `t`, and
   * keeps cells from then on: restored state turns out to have expiry times, or a TTL is
   * declared for restored bare values.
   */
  private wrapAll(t: number): void {
    const wrap = (m: Map<unknown, unknown>): void => m.forEach((v, k) => m.set(k, { v, t }));
    this.forEachSlotMap((m) => {
      if (this.kind !== 'map') wrap(m);
      else m.forEach((entries) => wrap(entries as Map<unknown, unknown>));
    });
    this.cells = true;
  }

  private forEachSlotMap(f: (m: Map<unknown, unknown>) => void): void {
    f(this.plain);
    for (const [key, byNs] of this.scoped) {
      f(byNs);
      if (byNs.size === 0) this.scoped.delete(key);
    }
  }
}
