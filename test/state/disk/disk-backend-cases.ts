/**
 * The on-disk backend's own cases (persistence, a differential test against the memory
 * backend, incremental checkpoints, TTL cleanup), run for each engine: LMDB
 * (`lmdb-backend.test.ts`) and RocksDB (`rocksdb-backend.test.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/time/clock.js';
import { aggregatingState, listState, mapState, reducingState, valueState } from '../../../src/state/descriptors.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupOf } from '../../../src/state/key-groups.js';
import { MemoryStateBackend } from '../../../src/state/memory-backend.js';
import { entriesOf } from '../../../src/state/snapshot-format.js';
import type { AggregateFunction, Key, KeyedStateBackend, KeyedStateSnapshot, Namespace } from '../../../src/state/types.js';
import { readFrames } from '../../../src/state/disk/checkpoint-files.js';
import type { DiskStateBackend, DiskStateBackendOptions } from '../../../src/state/disk/lmdb-backend.js';

export const root = mkdtempSync(join(tmpdir(), 'sluice-disk-state-'));
let dirs = 0;
export const freshDir = (): string => join(root, `b${dirs++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Defines the cases for the engine `engine`, whose backends `make` opens. `propertyRuns`:
 * runs of the differential property (each opens several stores; a RocksDB open costs
 * tens of milliseconds, an LMDB one far less).
 */
export function diskBackendCases(engine: string, make: (options: DiskStateBackendOptions) => DiskStateBackend, propertyRuns = 120): void {
  describe(`${engine} backend: persistence`, () => {
    it('keeps every state kind across close and reopen', async () => {
      const path = freshDir();
      const clock = new ManualClock(1000);
      const sum: AggregateFunction<number, number, number> = { createAccumulator: () => 0, add: (v, a) => v + a, getResult: (a) => a };
      const declare = (b: DiskStateBackend) => ({
        v: b.getState(valueState<{ n: number; tags: Set<string> }>('v')),
        l: b.getState(listState<bigint>('l')),
        m: b.getState(mapState<string | number, Map<string, Date>>('m')),
        r: b.getState(reducingState<number>('r', Math.max)),
        a: b.getState(aggregatingState('a', sum)),
      });
      const b = make({ clock, path, cacheSize: 2 });
      let s = declare(b);
      for (const key of ['x', 7, 7n] as Key[]) {
        b.setCurrentKey(key);
        s.v.update({ n: 1, tags: new Set(['t']) });
        s.l.addAll([1n, 2n ** 70n]);
        s.m.put('k', new Map([['d', new Date(5)]]));
        s.m.put(3, new Map());
        s.r.add(4);
        s.r.add(2);
        s.a.add(5);
        b.setCurrentNamespace('w');
        s.r.add(9);
        b.setCurrentNamespace(undefined);
      }
      const before = b.snapshot();
      await b.close();
      const c = make({ clock, path });
      s = declare(c);
      c.setCurrentKey(7n);
      expect(s.v.value()).toEqual({ n: 1, tags: new Set(['t']) });
      expect(s.l.get()).toEqual([1n, 2n ** 70n]);
      expect(s.m.get('k')).toEqual(new Map([['d', new Date(5)]]));
      expect(s.m.get(3)).toEqual(new Map());
      expect([s.r.get(), s.a.get()]).toEqual([4, 5]);
      expect(c.snapshot()).toEqual(before);
      expect(new Set(c.keys('r'))).toEqual(new Set(['x', 7, 7n]));
      await c.destroy();
    });

    it('refuses a file written with another max parallelism', async () => {
      const path = freshDir();
      const b = make({ clock: new ManualClock(), path });
      await b.close();
      expect(() => make({ clock: new ManualClock(), path, maxParallelism: 256 })).toThrow(/max parallelism/);
    });
  });

  // ---- differential: the disk backend with a tiny cache against the memory backend ----

  const TTL = 50;
  const D = {
    v: valueState<number>('v', { defaultValue: 0 }),
    vt: valueState<number>('vt', { ttl: { ttl: TTL } }),
    vr: valueState<number>('vr', { ttl: { ttl: TTL, updateOn: 'read-and-write' } }),
    l: listState<number>('l', { ttl: { ttl: TTL } }),
    m: mapState<string, number>('m'),
    mr: mapState<string, number>('mr', { ttl: { ttl: TTL, updateOn: 'read-and-write' } }),
    r: reducingState<number>('r', (a, b) => a + b),
    a: aggregatingState('a', { createAccumulator: () => ({ s: 0, n: 0 }), add: (v: number, x) => ({ s: x.s + v, n: x.n + 1 }), getResult: (x) => x.s / x.n }, {
      ttl: { ttl: TTL, updateOn: 'read-and-write' },
    }),
  };
  type Name = keyof typeof D;
  const NAMES = Object.keys(D) as Name[];
  type Op =
    | { op: 'key'; key: Key }
    | { op: 'ns'; ns: Namespace | undefined }
    | { op: 'advance'; ms: number }
    | { op: 'update'; n: 'v' | 'vt' | 'vr'; x: number }
    | { op: 'read'; n: 'v' | 'vt' | 'vr' }
    | { op: 'clear'; n: Name }
    | { op: 'listAdd'; xs: number[] }
    | { op: 'listUpdate'; xs: number[] }
    | { op: 'listGet' }
    | { op: 'mapPut'; n: 'm' | 'mr'; mk: string; x: number }
    | { op: 'mapRemove'; n: 'm' | 'mr'; mk: string }
    | { op: 'mapGet'; n: 'm' | 'mr'; mk: string }
    | { op: 'mapContains'; n: 'm' | 'mr'; mk: string }
    | { op: 'mapEntries'; n: 'm' | 'mr' }
    | { op: 'mapIsEmpty'; n: 'm' | 'mr' }
    | { op: 'add'; n: 'r' | 'a'; x: number }
    | { op: 'addGet'; n: 'r' | 'a' }
    | { op: 'keys'; n: Name }
    | { op: 'namespaces'; n: Name }
    | { op: 'size' }
    | { op: 'snapshotRestore'; split: boolean }
    | { op: 'reopen' }
    | { op: 'sweep' };

  const maps = fc.constantFrom<'m' | 'mr'>('m', 'mr');
  const values = fc.constantFrom<'v' | 'vt' | 'vr'>('v', 'vt', 'vr');
  const mk = fc.constantFrom('x', 'y', 'z');
  const num = fc.integer({ min: -5, max: 20 });
  const w = <T,>(arbitrary: fc.Arbitrary<T>, weight: number) => ({ arbitrary, weight });
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    w(fc.record({ op: fc.constant('key' as const), key: fc.constantFrom<Key>('a', 'b', 'c', 1, 1n, '1', 2.5) }), 3),
    w(fc.record({ op: fc.constant('ns' as const), ns: fc.constantFrom<Namespace | undefined>(undefined, undefined, 'w1', 2) }), 1),
    w(fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(TTL - 1, TTL, TTL + 1)) }), 3),
    w(fc.record({ op: fc.constant('update' as const), n: values, x: num }), 3),
    w(fc.record({ op: fc.constant('read' as const), n: values }), 3),
    w(fc.record({ op: fc.constant('clear' as const), n: fc.constantFrom(...NAMES) }), 1),
    w(fc.record({ op: fc.constant('listAdd' as const), xs: fc.array(num, { maxLength: 3 }) }), 2),
    w(fc.record({ op: fc.constant('listUpdate' as const), xs: fc.array(num, { maxLength: 3 }) }), 1),
    w(fc.record({ op: fc.constant('listGet' as const) }), 2),
    w(fc.record({ op: fc.constant('mapPut' as const), n: maps, mk, x: num }), 4),
    w(fc.record({ op: fc.constant('mapRemove' as const), n: maps, mk }), 1),
    w(fc.record({ op: fc.constant('mapGet' as const), n: maps, mk }), 3),
    w(fc.record({ op: fc.constant('mapContains' as const), n: maps, mk }), 1),
    w(fc.record({ op: fc.constant('mapEntries' as const), n: maps }), 2),
    w(fc.record({ op: fc.constant('mapIsEmpty' as const), n: maps }), 1),
    w(fc.record({ op: fc.constant('add' as const), n: fc.constantFrom<'r' | 'a'>('r', 'a'), x: num }), 3),
    w(fc.record({ op: fc.constant('addGet' as const), n: fc.constantFrom<'r' | 'a'>('r', 'a') }), 2),
    w(fc.record({ op: fc.constant('keys' as const), n: fc.constantFrom(...NAMES) }), 1),
    w(fc.record({ op: fc.constant('namespaces' as const), n: fc.constantFrom(...NAMES) }), 1),
    w(fc.record({ op: fc.constant('size' as const) }), 1),
    w(fc.record({ op: fc.constant('snapshotRestore' as const), split: fc.boolean() }), 1),
    w(fc.record({ op: fc.constant('reopen' as const) }), 1),
    w(fc.record({ op: fc.constant('sweep' as const) }), 1),
  );

  /** Applies a read or write op to one backend; returns what it observed. */
  function apply(b: KeyedStateBackend, o: Op): unknown {
    switch (o.op) {
      case 'key':
        return b.setCurrentKey(o.key);
      case 'ns':
        return b.setCurrentNamespace(o.ns);
      case 'update':
        return b.getState(D[o.n]).update(o.x);
      case 'read':
        return b.getState(D[o.n]).value();
      case 'clear':
        return (b.getState(D[o.n]) as { clear(): void }).clear();
      case 'listAdd':
        return b.getState(D.l).addAll(o.xs);
      case 'listUpdate':
        return b.getState(D.l).update(o.xs);
      case 'listGet':
        return b.getState(D.l).get();
      case 'mapPut':
        return b.getState(D[o.n]).put(o.mk, o.x);
      case 'mapRemove':
        return b.getState(D[o.n]).remove(o.mk);
      case 'mapGet':
        return b.getState(D[o.n]).get(o.mk);
      case 'mapContains':
        return b.getState(D[o.n]).contains(o.mk);
      case 'mapEntries':
        return b.getState(D[o.n]).entries().sort((p, q) => p[0].localeCompare(q[0]));
      case 'mapIsEmpty':
        return b.getState(D[o.n]).isEmpty();
      case 'add':
        return o.n === 'r' ? b.getState(D.r).add(o.x) : b.getState(D.a).add(o.x);
      case 'addGet':
        return o.n === 'r' ? b.getState(D.r).get() : b.getState(D.a).get();
      case 'keys':
        return new Set(b.keys(o.n));
      case 'namespaces':
        return new Set(b.namespaces(o.n));
      case 'size':
        return b.size();
      default:
        return undefined;
    }
  }

  const bigintSafe = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v instanceof Set ? [...v] : v);

  describe(`${engine} backend with a cache of 10 entries against the memory backend (fast-check: a failure prints its seed)`, () => {
    it('gives the same answers for random operation sequences, across eviction, snapshots and reopening', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 150, size: 'max' }), async (ops) => {
          // fc.assert chains its runs through promises that are already settled, so without this
          // turn of the event loop the runs (each opening LMDB files) were one synchronous
          // stretch: 1-3 s, and 17 s on a loaded machine, long enough for Vitest's worker RPC to time out.
          await yieldToLoop();
          const clock = new ManualClock(1000);
          let mem: KeyedStateBackend = new MemoryStateBackend({ clock });
          let disk = make({ clock, path: freshDir(), cacheSize: 10 });
          let current: { key: Key; ns: Namespace | undefined } = { key: 'a', ns: undefined };
          mem.setCurrentKey('a');
          disk.setCurrentKey('a');
          try {
            for (const [i, o] of ops.entries()) {
              if (o.op === 'key') current = { ...current, key: o.key };
              if (o.op === 'ns') current = { ...current, ns: o.ns };
              if (o.op === 'advance') clock.advance(o.ms);
              if (o.op === 'sweep') disk.sweepExpired(5);
              if (o.op === 'reopen') {
                await disk.close();
                disk = make({ clock, path: disk.path, cacheSize: 10 });
                for (const n of NAMES) disk.getState(D[n]);
              }
              if (o.op === 'snapshotRestore') {
                const snap = mem.snapshot();
                expect(normalise(disk.snapshot())).toEqual(normalise(snap));
                const nextMem = new MemoryStateBackend({ clock });
                const nextDisk = make({ clock, path: freshDir(), cacheSize: 10 });
                for (const [target, source] of [
                  [nextMem, snap],
                  [nextDisk, disk.snapshot()],
                ] as const) {
                  if (o.split) {
                    target.restore(source, { from: 0, to: 40 });
                    target.restore(source, { from: 41, to: DEFAULT_MAX_PARALLELISM - 1 });
                  } else target.restore(source);
                }
                await disk.destroy();
                mem = nextMem;
                disk = nextDisk;
              }
              if (o.op === 'reopen' || o.op === 'snapshotRestore') {
                for (const b of [mem, disk]) {
                  b.setCurrentKey(current.key);
                  b.setCurrentNamespace(current.ns);
                }
              }
              const expected = apply(mem, o);
              const actual = apply(disk, o);
              if (!isDeepStrictEqual(actual, expected)) {
                throw new Error(`op #${i} ${JSON.stringify(o, bigintSafe)}: disk gave ${JSON.stringify(actual, bigintSafe)}, memory ${JSON.stringify(expected, bigintSafe)}`);
              }
            }
            expect(disk.size()).toBe(mem.size());
            expect(disk.cachedEntries).toBeLessThanOrEqual(10);
          } finally {
            await disk.destroy();
          }
        }),
        { numRuns: propertyRuns },
      );
    }, 120_000);
  });

  /** A snapshot with entries in a canonical order (the backends list them in different orders). */
  function normalise(snap: KeyedStateSnapshot): unknown {
    const out: Record<string, unknown> = {};
    for (const [name, stored] of Object.entries(snap.states)) {
      const { kind } = stored;
      const entries = entriesOf(stored, snap.maxParallelism);
      if (entries.length === 0) continue;
      const sorted = entries
        .map((e) => {
          const x = e as { value: unknown };
          return Array.isArray(x.value) && kind === 'map' ? { ...x, value: [...(x.value as Array<[string]>)].sort((p, q) => p[0].localeCompare(q[0])) } : x;
        })
        .map((e) => {
          const x = e as unknown as { key: Key; namespace?: Namespace };
          return [JSON.stringify([typeof x.key, x.key, typeof x.namespace, x.namespace ?? null], bigintSafe), e] as const;
        })
        .sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0))
        .map(([, e]) => e);
      out[name] = { kind, entries: sorted };
    }
    return out;
  }

  // ---- checkpoints ----

  describe(`${engine} backend: incremental checkpoints`, () => {
    const fill = (b: DiskStateBackend, from: number, to: number, tag: string): void => {
      const v = b.getState(valueState<string>('v'));
      const m = b.getState(mapState<number, string>('m'));
      for (let i = from; i < to; i++) {
        b.setCurrentKey(`k${i}`);
        v.update(`${tag}${i}`);
        m.put(i % 3, tag);
      }
    };

    it('writes only the records changed since the last checkpoint, and a chain restores the state', async () => {
      const clock = new ManualClock(0);
      const b = make({ clock, path: freshDir(), cacheSize: 100 });
      fill(b, 0, 1000, 'a');
      const cps = join(freshDir(), 'cp');
      const first = await b.checkpoint(join(cps, '1'));
      expect(first.incremental).toBe(false);
      expect(first.records).toBe(2000 + 2 + 1); // 1000 values, 1000 map entries, 2 states, max parallelism

      fill(b, 10, 20, 'b'); // 10 keys: 10 values + 10 map entries
      b.setCurrentKey('k500');
      b.getState(valueState<string>('v')).clear(); // one deletion
      const second = await b.checkpoint(join(cps, '2'));
      expect(second.incremental).toBe(true);
      expect(second.records).toBe(21);
      expect(second.bytes).toBeLessThan(first.bytes / 20);
      expect(readFrames(second.files[0]!).frames.filter(([, v]) => v === undefined)).toHaveLength(1);
      expect(second.chain).toEqual([...first.chain, ...second.files]);

      const third = await b.checkpoint(join(cps, '3')); // nothing changed
      expect(third.records).toBe(0);

      const restored = make({ clock, path: freshDir() });
      await restored.restoreCheckpoint(third.chain);
      expect(restored.snapshot()).toEqual(b.snapshot());
      restored.setCurrentKey('k15');
      expect(restored.getState(valueState<string>('v')).value()).toBe('b15');

      // Rescaling: two halves of the key groups give the whole again, each only its own keys.
      const lower = make({ clock, path: freshDir() });
      const upper = make({ clock, path: freshDir() });
      await lower.restoreCheckpoint(third.chain, { from: 0, to: 63 });
      await upper.restoreCheckpoint(third.chain, { from: 64, to: 127 });
      expect(lower.keys('v').every((k) => keyGroupOf(k) <= 63)).toBe(true);
      expect(upper.keys('v').every((k) => keyGroupOf(k) >= 64)).toBe(true);
      expect(lower.size() + upper.size()).toBe(b.size());

      // The first checkpoint after a restore is full.
      expect((await restored.checkpoint(join(cps, 'r1'))).incremental).toBe(false);
      for (const x of [b, restored, lower, upper]) await x.destroy();
    });

    it('copies the state as of the call while the state keeps changing', async () => {
      const clock = new ManualClock(0);
      const b = make({ clock, path: freshDir(), cacheSize: 1000 });
      fill(b, 0, 30_000, 'a'); // more than one copy chunk, so the copy yields to the event loop
      const pending = b.checkpoint(join(freshDir(), 'cp'));
      fill(b, 0, 30_000, 'later');
      b.flush();
      const cp = await pending;
      const restored = make({ clock, path: freshDir() });
      await restored.restoreCheckpoint(cp.chain);
      restored.setCurrentKey('k29999');
      expect(restored.getState(valueState<string>('v')).value()).toBe('a29999');
      expect(restored.size()).toBe(60_000);
      // The writes after the call are in the next (incremental) checkpoint.
      const next = await b.checkpoint(join(freshDir(), 'cp'));
      expect(next.incremental).toBe(true);
      const again = make({ clock, path: freshDir() });
      await again.restoreCheckpoint(next.chain);
      again.setCurrentKey('k29999');
      expect(again.getState(valueState<string>('v')).value()).toBe('later29999');
      for (const x of [b, restored, again]) await x.destroy();
    }, 60_000);
  });

  // ---- TTL on disk ----

  describe(`${engine} backend: TTL cleanup`, () => {
    const recordsOnDisk = (b: DiskStateBackend): number => b.store.engine.range(Buffer.alloc(0), Buffer.from([0xff])).length;

    it('deletes expired records of keys never touched again from the file', () => {
      const clock = new ManualClock(0);
      const b = make({ clock, path: freshDir(), cacheSize: 50 });
      const v = b.getState(valueState<number>('v', { ttl: { ttl: 10 } }));
      const m = b.getState(mapState<string, number>('m', { ttl: { ttl: 10 } }));
      for (let i = 0; i < 500; i++) {
        b.setCurrentKey(`old-${i}`);
        v.update(i);
        m.put('a', i);
        b.setCurrentNamespace('w');
        v.update(i);
        b.setCurrentNamespace(undefined);
      }
      b.flush();
      expect(recordsOnDisk(b)).toBe(1500);
      clock.advance(10);
      // Only other keys are written: the sweep driven by these writes must find the old ones.
      for (let i = 0; i < 2000; i++) {
        b.setCurrentKey(`new-${i % 3}`);
        v.update(i);
      }
      b.flush();
      expect(recordsOnDisk(b)).toBe(3);
      expect(b.size()).toBe(3);
    });

    it('an expired value read is deleted from disk too', () => {
      const clock = new ManualClock(0);
      const b = make({ clock, path: freshDir() });
      const v = b.getState(valueState<number>('v', { ttl: { ttl: 10 } }));
      b.setCurrentKey('k');
      v.update(1);
      b.flush();
      expect(recordsOnDisk(b)).toBe(1);
      clock.advance(10);
      expect(v.value()).toBeUndefined();
      b.flush();
      expect(recordsOnDisk(b)).toBe(0);
    });
  });
}
