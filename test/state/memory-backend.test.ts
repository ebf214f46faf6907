import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/time/clock.js';
import { describeStateBackend } from '../../src/testing/index.js';
import { aggregatingState, listState, mapState, reducingState, valueState } from '../../src/state/descriptors.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupOf } from '../../src/state/key-groups.js';
import { MemoryStateBackend } from '../../src/state/memory-backend.js';
import { entriesOf } from '../../src/state/snapshot-format.js';
import type { AggregateFunction, Key, KeyedStateBackend, KeyedStateSnapshot, Namespace, StateColumns } from '../../src/state/types.js';

describeStateBackend('memory', (clock) => new MemoryStateBackend({ clock }));

// ---- differential test: random operations against a trivially correct model ----

const TTL = 50;
const avg: AggregateFunction<number, { s: number; n: number }, number> = {
  createAccumulator: () => ({ s: 0, n: 0 }),
  add: (v, a) => ({ s: a.s + v, n: a.n + 1 }),
  getResult: (a) => a.s / a.n,
};
const D = {
  v: valueState<number>('v', { defaultValue: 0 }),
  vt: valueState<number>('vt', { ttl: { ttl: TTL } }),
  vr: valueState<number>('vr', { ttl: { ttl: TTL, updateOn: 'read-and-write' } }),
  l: listState<number>('l', { ttl: { ttl: TTL } }),
  m: mapState<string, number>('m'),
  mr: mapState<string, number>('mr', { ttl: { ttl: TTL, updateOn: 'read-and-write' } }),
  r: reducingState<number>('r', (a, b) => a + b),
  a: aggregatingState('a', avg, { ttl: { ttl: TTL, updateOn: 'read-and-write' } }),
};
type Name = keyof typeof D;
const NAMES = Object.keys(D) as Name[];
const VALUES: Name[] = ['v', 'vt', 'vr'];
const MAPS: Name[] = ['m', 'mr'];
const ttlOf = (n: Name): number => (n === 'v' || n === 'm' || n === 'r' ? Infinity : TTL);
const refreshesOnRead = (n: Name): boolean => n === 'vr' || n === 'mr' || n === 'a';

interface Slot {
  v: unknown; // number | number[] | {s,n} | Map<string, Slot>
  t: number;
}

/** The model: per state, key -> namespace -> slot, with expiry checked naively everywhere. */
class Model {
  data = new Map<Name, Map<Key, Map<Namespace | undefined, Slot>>>(NAMES.map((n) => [n, new Map()]));
  key: Key = 'a';
  ns: Namespace | undefined = undefined;
  constructor(private readonly clock: ManualClock) {}
  private now(): number {
    return this.clock.now();
  }
  private live(n: Name, s: Slot | undefined): boolean {
    if (s === undefined) return false;
    if (MAPS.includes(n)) return [...(s.v as Map<string, Slot>).values()].some((e) => e.t > this.now());
    return s.t > this.now();
  }
  private byNs(n: Name): Map<Namespace | undefined, Slot> {
    const m = this.data.get(n)!;
    if (!m.has(this.key)) m.set(this.key, new Map());
    return m.get(this.key)!;
  }
  /** The live slot of the current key/namespace (refreshed if reads refresh and `refresh`). */
  get(n: Name, refresh: boolean): Slot | undefined {
    const s = this.byNs(n).get(this.ns);
    if (!this.live(n, s)) return undefined;
    if (refresh && refreshesOnRead(n) && !MAPS.includes(n)) s!.t = this.now() + ttlOf(n);
    return s;
  }
  set(n: Name, v: unknown): void {
    this.byNs(n).set(this.ns, { v, t: this.now() + ttlOf(n) });
  }
  clear(n: Name): void {
    this.byNs(n).delete(this.ns);
  }
  mapEntries(n: Name, refresh: boolean): Map<string, Slot> {
    const s = this.get(n, false);
    const out = new Map<string, Slot>();
    if (s === undefined) return out;
    for (const [k, e] of s.v as Map<string, Slot>) {
      if (e.t <= this.now()) continue;
      if (refresh && refreshesOnRead(n)) e.t = this.now() + ttlOf(n);
      out.set(k, e);
    }
    return out;
  }
  /** One live map entry, refreshed if reads refresh. */
  mapEntry(n: Name, mk: string): Slot | undefined {
    const e = this.mapEntries(n, false).get(mk);
    if (e !== undefined && refreshesOnRead(n)) e.t = this.now() + ttlOf(n);
    return e;
  }
  mapPut(n: Name, mk: string, v: number): void {
    let s = this.byNs(n).get(this.ns);
    if (s === undefined) this.byNs(n).set(this.ns, (s = { v: new Map(), t: Infinity }));
    (s.v as Map<string, Slot>).set(mk, { v, t: this.now() + ttlOf(n) });
  }
  mapRemove(n: Name, mk: string): void {
    (this.byNs(n).get(this.ns)?.v as Map<string, Slot> | undefined)?.delete(mk);
  }
  keys(n: Name): Set<Key> {
    const out = new Set<Key>();
    for (const [k, byNs] of this.data.get(n)!) for (const s of byNs.values()) if (this.live(n, s)) out.add(k);
    return out;
  }
  namespaces(n: Name): Set<Namespace> {
    const out = new Set<Namespace>();
    for (const [ns, s] of this.data.get(n)!.get(this.key) ?? []) if (ns !== undefined && this.live(n, s)) out.add(ns);
    return out;
  }
  size(): number {
    let count = 0;
    for (const n of NAMES) for (const byNs of this.data.get(n)!.values()) for (const s of byNs.values()) if (this.live(n, s)) count++;
    return count;
  }
}

type Op =
  | { op: 'key'; key: Key }
  | { op: 'ns'; ns: Namespace | undefined }
  | { op: 'advance'; ms: number }
  | { op: 'valueUpdate'; n: Name; x: number }
  | { op: 'valueRead'; n: Name }
  | { op: 'clear'; n: Name }
  | { op: 'listAdd'; xs: number[] }
  | { op: 'listUpdate'; xs: number[] }
  | { op: 'listGet' }
  | { op: 'mapPut'; n: Name; mk: string; x: number }
  | { op: 'mapRemove'; n: Name; mk: string }
  | { op: 'mapGet'; n: Name; mk: string }
  | { op: 'mapContains'; n: Name; mk: string }
  | { op: 'mapEntries'; n: Name }
  | { op: 'mapIsEmpty'; n: Name }
  | { op: 'add'; n: 'r' | 'a'; x: number }
  | { op: 'addGet'; n: 'r' | 'a' }
  | { op: 'keys'; n: Name }
  | { op: 'namespaces'; n: Name }
  | { op: 'size' }
  | { op: 'snapshotRestore'; declareFirst: boolean; split: boolean };

const name = (names: Name[]) => fc.constantFrom(...names);
const mk = fc.constantFrom('x', 'y', 'z');
const num = fc.integer({ min: -5, max: 20 });
const w = <T>(arbitrary: fc.Arbitrary<T>, weight: number) => ({ arbitrary, weight });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  w(fc.record({ op: fc.constant('key' as const), key: fc.constantFrom<Key>('a', 'b', 1, 1n, '1') }), 2),
  w(fc.record({ op: fc.constant('ns' as const), ns: fc.constantFrom<Namespace | undefined>(undefined, undefined, 'w1', 2) }), 1),
  // Small steps and exact TTL boundaries (expiry is at write time + TTL, inclusive).
  w(fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(TTL - 1, TTL, TTL + 1, 25)) }), 4),
  w(fc.record({ op: fc.constant('valueUpdate' as const), n: name(VALUES), x: num }), 3),
  w(fc.record({ op: fc.constant('valueRead' as const), n: name(VALUES) }), 3),
  w(fc.record({ op: fc.constant('clear' as const), n: name(NAMES) }), 1),
  w(fc.record({ op: fc.constant('listAdd' as const), xs: fc.array(num, { maxLength: 3 }) }), 2),
  w(fc.record({ op: fc.constant('listUpdate' as const), xs: fc.array(num, { maxLength: 3 }) }), 1),
  w(fc.record({ op: fc.constant('listGet' as const) }), 2),
  w(fc.record({ op: fc.constant('mapPut' as const), n: name(MAPS), mk, x: num }), 4),
  w(fc.record({ op: fc.constant('mapRemove' as const), n: name(MAPS), mk }), 1),
  w(fc.record({ op: fc.constant('mapGet' as const), n: name(MAPS), mk }), 3),
  w(fc.record({ op: fc.constant('mapContains' as const), n: name(MAPS), mk }), 2),
  w(fc.record({ op: fc.constant('mapEntries' as const), n: name(MAPS) }), 2),
  w(fc.record({ op: fc.constant('mapIsEmpty' as const), n: name(MAPS) }), 1),
  w(fc.record({ op: fc.constant('add' as const), n: fc.constantFrom<'r' | 'a'>('r', 'a'), x: num }), 3),
  w(fc.record({ op: fc.constant('addGet' as const), n: fc.constantFrom<'r' | 'a'>('r', 'a') }), 2),
  w(fc.record({ op: fc.constant('keys' as const), n: name(NAMES) }), 1),
  w(fc.record({ op: fc.constant('namespaces' as const), n: name(NAMES) }), 1),
  w(fc.record({ op: fc.constant('size' as const) }), 2),
  w(fc.record({ op: fc.constant('snapshotRestore' as const), declareFirst: fc.boolean(), split: fc.boolean() }), 1),
);

const sortEntries = (es: Array<[string, number]>): Array<[string, number]> => [...es].sort((p, q) => p[0].localeCompare(q[0]));

/** Applies one op to backend and model; returns [actual, expected] to compare. */
function step(b: KeyedStateBackend, model: Model, o: Op): [unknown, unknown] {
  const st = <N extends Name>(n: N) => b.getState(D[n]);
  switch (o.op) {
    case 'key':
      b.setCurrentKey(o.key);
      model.key = o.key;
      return [0, 0];
    case 'ns':
      b.setCurrentNamespace(o.ns);
      model.ns = o.ns;
      return [0, 0];
    case 'advance':
      return [0, 0]; // done by the caller on the shared clock
    case 'valueUpdate':
      (st(o.n) as ReturnType<typeof st<'v'>>).update(o.x);
      model.set(o.n, o.x);
      return [0, 0];
    case 'valueRead':
      return [(st(o.n) as ReturnType<typeof st<'v'>>).value(), model.get(o.n, true)?.v ?? (o.n === 'v' ? 0 : undefined)];
    case 'clear':
      (st(o.n) as { clear(): void }).clear();
      model.clear(o.n);
      return [0, 0];
    case 'listAdd': {
      st('l').addAll(o.xs);
      if (o.xs.length > 0) model.set('l', [...((model.get('l', false)?.v as number[] | undefined) ?? []), ...o.xs]);
      return [0, 0];
    }
    case 'listUpdate':
      st('l').update(o.xs);
      if (o.xs.length === 0) model.clear('l');
      else model.set('l', [...o.xs]);
      return [0, 0];
    case 'listGet':
      return [st('l').get(), [...((model.get('l', true)?.v as number[] | undefined) ?? [])]];
    case 'mapPut':
      st(o.n as 'm').put(o.mk, o.x);
      model.mapPut(o.n, o.mk, o.x);
      return [0, 0];
    case 'mapRemove':
      st(o.n as 'm').remove(o.mk);
      model.mapRemove(o.n, o.mk);
      return [0, 0];
    case 'mapGet':
      return [st(o.n as 'm').get(o.mk), model.mapEntry(o.n, o.mk)?.v];
    case 'mapContains':
      return [st(o.n as 'm').contains(o.mk), model.mapEntry(o.n, o.mk) !== undefined];
    case 'mapEntries':
      return [
        sortEntries(st(o.n as 'm').entries()),
        sortEntries([...model.mapEntries(o.n, true)].map(([k, e]) => [k, e.v as number])),
      ];
    case 'mapIsEmpty':
      return [st(o.n as 'm').isEmpty(), model.mapEntries(o.n, false).size === 0];
    case 'add':
      if (o.n === 'r') {
        st('r').add(o.x);
        const cur = model.get('r', false)?.v as number | undefined;
        model.set('r', cur === undefined ? o.x : cur + o.x);
      } else {
        st('a').add(o.x);
        const cur = (model.get('a', false)?.v as { s: number; n: number } | undefined) ?? { s: 0, n: 0 };
        model.set('a', { s: cur.s + o.x, n: cur.n + 1 });
      }
      return [0, 0];
    case 'addGet': {
      const s = model.get(o.n, true)?.v;
      if (o.n === 'r') return [st('r').get(), s];
      const acc = s as { s: number; n: number } | undefined;
      return [st('a').get(), acc === undefined ? undefined : acc.s / acc.n];
    }
    case 'keys':
      return [new Set(b.keys(o.n)), model.keys(o.n)];
    case 'namespaces':
      return [new Set(b.namespaces(o.n)), model.namespaces(o.n)];
    case 'size':
      return [b.size(), model.size()];
    case 'snapshotRestore':
      return [0, 0]; // done by the caller: it replaces the backend
  }
}

function declareAll(b: KeyedStateBackend): void {
  for (const n of NAMES) b.getState(D[n]);
}

describe('memory backend against a model (fast-check: a failure prints its seed)', () => {
  it('gives the same answers as plain Maps for random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200, size: 'max' }), (ops) => {
        const clock = new ManualClock(1000);
        const model = new Model(clock);
        let b: KeyedStateBackend = new MemoryStateBackend({ clock });
        declareAll(b);
        b.setCurrentKey('a');
        for (const [i, o] of ops.entries()) {
          if (o.op === 'advance') clock.advance(o.ms);
          if (o.op === 'snapshotRestore') {
            const snap = b.snapshot();
            const c = new MemoryStateBackend({ clock });
            if (o.declareFirst) declareAll(c);
            if (o.split) {
              c.restore(snap, { from: 0, to: 40 });
              c.restore(snap, { from: 41, to: DEFAULT_MAX_PARALLELISM - 1 });
            } else c.restore(snap);
            declareAll(c);
            c.setCurrentKey(model.key);
            c.setCurrentNamespace(model.ns);
            b.dispose();
            b = c;
            continue;
          }
          const [actual, expected] = step(b, model, o);
          if (!isEqual(actual, expected)) {
            throw new Error(`op #${i} ${JSON.stringify(o, bigintSafe)}: backend gave ${show(actual)}, model ${show(expected)}`);
          }
          // Now and then the whole live state must agree (keys() and size() do not refresh TTLs).
          // Not after every op: these calls delete expired entries, which would hide the
          // expiry checks on the read paths from the test.
          if (o.op === 'size') for (const n of NAMES) {
            if (!isEqual(new Set(b.keys(n)), model.keys(n))) {
              throw new Error(`after op #${i} ${JSON.stringify(o, bigintSafe)}: keys('${n}') differ: backend ${show(new Set(b.keys(n)))}, model ${show(model.keys(n))}`);
            }
          }
        }
        expect(b.size()).toBe(model.size());
      }),
      { numRuns: 400 },
    );
  });
});

const isEqual = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);
const bigintSafe = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);
const show = (v: unknown): string => (v instanceof Set ? `Set(${JSON.stringify([...v], bigintSafe)})` : JSON.stringify(v, bigintSafe));

// ---- the hot path ----

describe('memory backend fast path', () => {
  it('stores a plain value without TTL or namespace as the bare value (no wrapper)', () => {
    const b = new MemoryStateBackend({ clock: new ManualClock() });
    const v = b.getState(valueState<{ n: number }>('v'));
    b.setCurrentKey('k');
    const obj = { n: 1 };
    v.update(obj);
    expect(v.value()).toBe(obj);
    // Peek inside: the plain map holds the object itself.
    const table = (b as unknown as { tables: Map<string, { plain: Map<Key, unknown> }> }).tables.get('v')!;
    expect(table.plain.get('k')).toBe(obj);
  });

  it('keeps TTL values in {v, t} cells, and namespaced values out of the plain map', () => {
    const b = new MemoryStateBackend({ clock: new ManualClock(5) });
    const v = b.getState(valueState<number>('v', { ttl: { ttl: 10 } }));
    const w = b.getState(valueState<number>('w'));
    b.setCurrentKey('k');
    v.update(1);
    b.setCurrentNamespace('ns');
    w.update(2);
    const tables = (b as unknown as { tables: Map<string, { plain: Map<Key, unknown>; scoped: Map<Key, Map<Namespace, unknown>> }> }).tables;
    expect(tables.get('v')!.plain.get('k')).toEqual({ v: 1, t: 15 });
    expect(tables.get('w')!.plain.size).toBe(0);
    expect(tables.get('w')!.scoped.get('k')!.get('ns')).toBe(2);
  });
});

describe('memory backend incremental cleanup', () => {
  type Tables = Map<string, { plain: Map<Key, unknown>; scoped: Map<Key, Map<Namespace, unknown>> }>;
  const tablesOf = (b: MemoryStateBackend): Tables => (b as unknown as { tables: Tables }).tables;

  it('deletes expired entries of keys never touched again, plain, namespaced and inside maps', () => {
    const clock = new ManualClock(0);
    const b = new MemoryStateBackend({ clock });
    const v = b.getState(valueState<number>('v', { ttl: { ttl: 10 } }));
    const m = b.getState(mapState<string, number>('m', { ttl: { ttl: 10 } }));
    for (let i = 0; i < 100; i++) {
      b.setCurrentKey(`old-${i}`);
      b.setCurrentNamespace(undefined);
      v.update(i);
      m.put('a', i);
      b.setCurrentNamespace('w');
      v.update(i);
    }
    clock.advance(10);
    b.setCurrentNamespace(undefined);
    for (let i = 0; i < 300; i++) {
      b.setCurrentKey(`new-${i % 3}`);
      v.update(i);
      m.put('a', i);
    }
    const t = tablesOf(b);
    expect(t.get('v')!.plain.size).toBe(3);
    expect(t.get('v')!.scoped.size).toBe(0);
    expect(t.get('m')!.plain.size).toBe(3);
  });
});

describe('memory backend snapshots in columns', () => {
  type Tables = Map<string, { plain: Map<Key, unknown> }>;
  const tablesOf = (b: MemoryStateBackend): Tables => (b as unknown as { tables: Tables }).tables;

  it('numeric keys and values go into typed arrays; strings and objects into arrays; no key groups (restore computes them)', () => {
    const b = new MemoryStateBackend({ clock: new ManualClock(0) });
    const count = b.getState(valueState<number>('count'));
    const name = b.getState(valueState<{ n: string }>('name'));
    for (let k = 0; k < 100; k++) {
      b.setCurrentKey(k);
      count.update(k * 2);
      b.setCurrentKey(`u${k}`);
      name.update({ n: `user ${k}` });
    }
    const snap = b.snapshot();
    const c = snap.states['count'] as StateColumns;
    expect(c.keys).toBeInstanceOf(Float64Array);
    expect(c.values).toBeInstanceOf(Float64Array);
    expect(c).not.toHaveProperty('keyGroups');
    expect(c.count).toBe(100);
    const n = snap.states['name'] as StateColumns;
    expect(Array.isArray(n.keys) && Array.isArray(n.values)).toBe(true);
    // Object values are copies.
    b.setCurrentKey('u1');
    name.value()!.n = 'changed';
    expect(entriesOf(n, b.maxParallelism).find((e) => e.key === 'u1')!.value).toEqual({ n: 'user 1' });
  });

  it('restored values without expiry stay bare until declared; a TTL declared then starts at the declaration', () => {
    const clock = new ManualClock(0);
    const b = new MemoryStateBackend({ clock });
    const v = b.getState(valueState<number>('v'));
    b.setCurrentKey(1);
    v.update(10);
    const c = new MemoryStateBackend({ clock });
    c.restore(b.snapshot());
    expect(tablesOf(c).get('v')!.plain.get(1)).toBe(10); // no {v, t} cell made and unmade
    clock.advance(500);
    const t = c.getState(valueState<number>('v', { ttl: { ttl: 100 } }));
    c.setCurrentKey(1);
    clock.advance(99);
    expect(t.value()).toBe(10);
    clock.advance(1);
    expect(t.value()).toBeUndefined();
  });

  it('restored values with expiry times keep them until declared, also when mixed with values without', () => {
    const clock = new ManualClock(0);
    const b = new MemoryStateBackend({ clock });
    const snap: KeyedStateSnapshot = {
      maxParallelism: b.maxParallelism,
      states: {
        v: { kind: 'value', entries: [{ key: 1, keyGroup: keyGroupOf(1), value: 10 }, { key: 2, keyGroup: keyGroupOf(2), value: 20, expiresAt: 50 }] },
      },
    };
    b.restore(snap);
    clock.advance(40);
    const v = b.getState(valueState<number>('v', { ttl: { ttl: 100 } }));
    b.setCurrentKey(2);
    expect(v.value()).toBe(20);
    clock.advance(10); // 50: the stored expiry
    expect(v.value()).toBeUndefined();
    b.setCurrentKey(1);
    expect(v.value()).toBe(10); // no stored expiry: a TTL from the declaration (40 + 100)
    clock.advance(90);
    expect(v.value()).toBeUndefined();
  });
});
