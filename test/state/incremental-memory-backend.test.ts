import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IncrementalMemoryStateBackend } from '../../src/state/incremental-memory-backend.js';
import { MemoryStateBackend } from '../../src/state/memory-backend.js';
import { readChainFile } from '../../src/state/memory-chain.js';
import { listState, mapState, valueState } from '../../src/state/descriptors.js';
import { entriesOf } from '../../src/state/snapshot-format.js';
import type { KeyedStateBackend, KeyedStateHandle, KeyedStateSnapshot } from '../../src/state/types.js';
import { ManualClock, type Clock } from '../../src/time/clock.js';
import { describeStateBackend } from '../../src/testing/index.js';
import { checkProperty, propertyRuns } from '../property.js';

// The shared suite, on a backend that has taken a checkpoint: its states name every change (the delta's bookkeeping is on).
describeStateBackend('incremental memory, after a checkpoint', (clock) => {
  const b = new IncrementalMemoryStateBackend({ clock });
  void b.captureCheckpoint(mkdtempSync(join(tmpdir(), 'sluice-inc-mem-suite-')), 1).written;
  return b;
});

/** The states every backend of these tests declares: plain, with TTL (refreshed on read), map with TTL, namespaced, list. */
function declare(b: KeyedStateBackend) {
  return {
    v: b.getState(valueState<number>('v')),
    t: b.getState(valueState<number>('t', { ttl: { ttl: 50, updateOn: 'read-and-write' } })),
    m: b.getState(mapState<number, number>('m', { ttl: { ttl: 80 } })),
    w: b.getState(valueState<number>('w')),
    l: b.getState(listState<number>('l')),
  };
}

type Op =
  | { op: 'put'; state: 'v' | 't' | 'w'; key: number; ns: number; value: number }
  | { op: 'clear'; state: 'v' | 't' | 'w' | 'l'; key: number; ns: number }
  | { op: 'read'; key: number }
  | { op: 'mapPut'; key: number; mk: number; value: number }
  | { op: 'mapRemove'; key: number; mk: number }
  | { op: 'listAdd'; key: number; value: number }
  | { op: 'advance'; ms: number }
  | { op: 'checkpoint' };

const key = fc.integer({ min: 0, max: 40 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), state: fc.constantFrom('v' as const, 't' as const, 'w' as const), key, ns: fc.integer({ min: 0, max: 3 }), value: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('clear' as const), state: fc.constantFrom('v' as const, 't' as const, 'w' as const, 'l' as const), key, ns: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('read' as const), key }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mapPut' as const), key, mk: fc.integer({ min: 0, max: 4 }), value: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mapRemove' as const), key, mk: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('listAdd' as const), key, value: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'checkpoint' as const }) },
);

function apply(b: KeyedStateBackend, s: ReturnType<typeof declare>, op: Op): void {
  if (op.op === 'advance' || op.op === 'checkpoint') return;
  b.setCurrentKey(op.key);
  b.setCurrentNamespace(undefined);
  switch (op.op) {
    case 'put':
      if (op.state === 'w') b.setCurrentNamespace(op.ns);
      s[op.state].update(op.value);
      return;
    case 'clear':
      if (op.state === 'w') b.setCurrentNamespace(op.ns);
      s[op.state].clear();
      return;
    case 'read':
      s.t.value(); // refreshes the TTL: a change a delta must carry
      s.m.get(0);
      return;
    case 'mapPut':
      s.m.put(op.mk, op.value);
      return;
    case 'mapRemove':
      s.m.remove(op.mk);
      return;
    case 'listAdd':
      s.l.add(op.value);
  }
}

/** A snapshot's entries in a canonical order (map entries sorted too), for comparison. */
function canonical(snapshot: KeyedStateSnapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, s] of Object.entries(snapshot.states)) {
    const lines = entriesOf(s, snapshot.maxParallelism).map((e) => {
      const value = s.kind === 'map' ? [...(e.value as unknown[][])].sort((a, b) => Number(a[0]) - Number(b[0])) : e.value;
      return JSON.stringify([e.key, e.namespace ?? null, value, e.expiresAt ?? null]);
    });
    if (lines.length > 0) out[name] = lines.sort();
  }
  return out;
}

/** What `restore` makes of a state at processing time `at`: a fresh backend's view of it. */
async function restoredAt(at: number, load: (b: IncrementalMemoryStateBackend) => void | Promise<void>): Promise<Record<string, string[]>> {
  const b = new IncrementalMemoryStateBackend({ clock: new ManualClock(at) });
  await load(b);
  return canonical(b.snapshot());
}

describe('IncrementalMemoryStateBackend', () => {
  it('restores every completed checkpoint of a chain exactly as a full snapshot taken then (random puts, deletes, TTL, map, namespaces, lists)', async () => {
    let deltas = 0;
    await checkProperty(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 250 }), fc.integer({ min: 1, max: 4 }), async (ops, fullEvery) => {
        const clock = new ManualClock(1000);
        const inc = new IncrementalMemoryStateBackend({ clock, fullEvery });
        const ref = new MemoryStateBackend({ clock });
        const si = declare(inc);
        const sr = declare(ref);
        // Keys no op touches, so that the ops' changes stay under half the slots and most checkpoints are deltas.
        for (const [b, s] of [[inc, si], [ref, sr]] as const) {
          for (let k = 1000; k < 1300; k++) {
            b.setCurrentKey(k);
            s.v.update(k);
          }
        }
        const dir = mkdtempSync(join(tmpdir(), 'sluice-inc-mem-'));
        const taken: Array<{ at: number; handle: KeyedStateHandle; written: Promise<void>; expected: KeyedStateSnapshot }> = [];
        for (const op of [...ops, { op: 'checkpoint' as const }]) {
          if (op.op === 'advance') clock.advance(op.ms);
          else if (op.op === 'checkpoint') {
            const { handle, written } = inc.captureCheckpoint(join(dir, String(taken.length + 1)), taken.length + 1);
            taken.push({ at: clock.now(), handle, written, expected: ref.snapshot() });
          } else {
            apply(inc, si, op);
            apply(ref, sr, op);
          }
        }
        for (const t of taken) {
          await t.written;
          const expected = await restoredAt(t.at, (b) => b.restore(t.expected));
          expect(await restoredAt(t.at, (b) => b.restoreHandle(t.handle))).toEqual(expected);
          // Rescaling: each half of the key groups from the chain, together, is the whole.
          const halves = await restoredAt(t.at, async (b) => {
            await b.restoreHandle(t.handle, { from: 0, to: 63 });
            await b.restoreHandle(t.handle, { from: 64, to: 127 });
          });
          expect(halves).toEqual(expected);
        }
        deltas += taken.filter((t) => t.handle.incremental).length;
      }),
      propertyRuns(60),
    );
    expect(deltas).toBeGreaterThan(0);
  }, 120_000);

  it('copies only the slots changed since the last checkpoint: a delta of 10 changed keys out of 100,000', async () => {
    const clock = new ManualClock(0);
    const b = new IncrementalMemoryStateBackend({ clock });
    const v = b.getState(valueState<number>('v'));
    for (let k = 0; k < 100_000; k++) {
      b.setCurrentKey(k);
      v.update(k);
    }
    const dir = mkdtempSync(join(tmpdir(), 'sluice-inc-mem-delta-'));
    const first = b.captureCheckpoint(join(dir, '1'), 1);
    await first.written;
    for (let k = 0; k < 10; k++) {
      b.setCurrentKey(k * 7);
      if (k === 0) v.clear();
      else v.update(-k);
    }
    const second = b.captureCheckpoint(join(dir, '2'), 2);
    await second.written;
    expect(first.handle.incremental).toBe(false);
    expect(second.handle.incremental).toBe(true);
    expect(second.handle.chain).toEqual([first.handle.chain[0], join(dir, '2', 'memory-delta.bin')]);
    expect(second.handle.bytes).toBeLessThan(first.handle.bytes / 100);
    const delta = await readChainFile(second.handle.chain[1]!);
    if (delta.kind !== 'delta') throw new Error('expected a delta');
    expect(delta.states['v']!.puts.count).toBe(9);
    expect(delta.states['v']!.removed.count).toBe(1);
    const restored = await restoredAt(0, (r) => r.restoreHandle(second.handle));
    expect(restored).toEqual(await restoredAt(0, (r) => r.restore(b.snapshot())));
  });

  it('writes a full checkpoint when more than an eighth of the keys changed, after a restore, and one in fullEvery', async () => {
    const clock: Clock = new ManualClock(0);
    const b = new IncrementalMemoryStateBackend({ clock, fullEvery: 3 });
    const v = b.getState(valueState<number>('v'));
    const write = (keys: number) => {
      for (let k = 0; k < keys; k++) {
        b.setCurrentKey(k);
        v.update(k + 1);
      }
    };
    const dir = mkdtempSync(join(tmpdir(), 'sluice-inc-mem-full-'));
    const kinds: boolean[] = [];
    const take = async (i: number) => {
      const c = b.captureCheckpoint(join(dir, String(i)), i);
      await c.written;
      kinds.push(c.handle.incremental);
      return c.handle;
    };
    write(10_000);
    await take(1); // first: full
    write(100);
    await take(2); // delta
    write(2_000);
    const h = await take(3); // 2,000 of 10,000 changed (more than 1,250): full
    write(100);
    await take(4);
    write(100);
    await take(5);
    write(100);
    await take(6); // one in fullEvery (3): full
    b.restore({ maxParallelism: 128, states: {} });
    write(1);
    await take(7); // after a restore: full
    expect(kinds).toEqual([false, true, false, true, true, false, false]);
    expect(h.chain).toHaveLength(1);
  });

  it('refuses a handle of another format, and a chain that does not start with a full file', async () => {
    const b = new IncrementalMemoryStateBackend({ clock: new ManualClock(0) });
    const base = { maxParallelism: 128, dirs: [], incremental: false, bytes: 0 };
    await expect(b.restoreHandle({ ...base, format: 'disk-chain', chain: ['x'] })).rejects.toMatchObject({ code: 'STATE_INCOMPATIBLE' });
    const dir = mkdtempSync(join(tmpdir(), 'sluice-inc-mem-bad-'));
    const src = new IncrementalMemoryStateBackend({ clock: new ManualClock(0) });
    const v = src.getState(valueState<number>('v'));
    src.setCurrentKey(1);
    v.update(1);
    await src.checkpointTo(join(dir, '1'), 1);
    v.update(2);
    const delta = await src.checkpointTo(join(dir, '2'), 2);
    await expect(b.restoreHandle({ ...delta, chain: [delta.chain[1]!] })).rejects.toMatchObject({ code: 'STATE_INCOMPATIBLE' });
    await expect(b.restoreHandle({ ...delta, chain: [join(dir, 'missing.bin')] })).rejects.toMatchObject({ code: 'STATE_INCOMPATIBLE' });
    expect(() => new IncrementalMemoryStateBackend({ clock: new ManualClock(0), fullEvery: 0 })).toThrow(/fullEvery/);
  });
});
