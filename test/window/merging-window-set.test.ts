/**
 * The merging window set (Flink's MergingWindowSet) against a naive reference: a key's
 * sessions as a list of windows with the records they hold, merged by union. Both paths
 * of the set run: the built-in time-window merge, and the generic one any merging
 * assigner gets (`mergeWindows` of another identity). The set's state lives in a real
 * memory backend, persisted after every step and now and then checkpointed and restored
 * into a fresh backend.
 *
 * Then the operator: extending a session moves no state, and sessions survive a snapshot
 * and restore (the mapping is state), in the older layout too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEED, checkProperty, propertyRuns } from '../property.js';
import { MemoryStateBackend } from '../../src/state/memory-backend.js';
import { valueState } from '../../src/state/descriptors.js';
import { ManualClock } from '../../src/time/clock.js';
import { MergingWindowSet, type MergeFunction } from '../../src/window/merging-window-set.js';
import { mergeTimeWindows, session } from '../../src/window/assigners/session.js';
import type { Window } from '../../src/window/window.js';
import { WindowOperator } from '../../src/window/operator.js';
import { count } from '../../src/window/aggregates/count.js';
import { eventTimeTrigger } from '../../src/window/triggers/event-time.js';
import { OperatorHarness } from '../../src/testing/operator-harness.js';
import type { WindowResult } from '../../src/window/window-function.js';

const STATE = valueState<Array<number | string>>('merging-windows');
const genericMerge = (ws: readonly Window[]) => mergeTimeWindows(ws);

type Op = { add: [number, number] } | { retire: number } | { checkpoint: true };
const ops = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 1, max: 12 })).map(([s, len]): Op => ({ add: [s, s + len] })) },
    { weight: 1, arbitrary: fc.nat({ max: 5 }).map((i): Op => ({ retire: i })) },
    { weight: 1, arbitrary: fc.constant<Op>({ checkpoint: true }) },
  ),
  { maxLength: 60 },
);

interface RefSession {
  start: number;
  end: number;
  ids: number[];
}

function runAgainstReference(steps: Op[], merge: typeof mergeTimeWindows): void {
  const clock = new ManualClock(0);
  let backend = new MemoryStateBackend({ clock });
  const open = () => {
    backend.setCurrentKey('k');
    return new MergingWindowSet(backend.getState(STATE), merge);
  };
  let set = open();
  // What the state windows hold: record ids per state namespace, moved only by merge calls.
  let held = new Map<string, number[]>();
  let ref: RefSession[] = [];
  let id = 0;
  const onMerge: MergeFunction = (result, merged, stateNs, mergedStateNs) => {
    expect(merged.length).toBeGreaterThan(0);
    for (const m of merged) expect(m.start >= result.start && m.end <= result.end).toBe(true);
    for (const ns of mergedStateNs) {
      expect(ns).not.toBe(stateNs);
      held.set(stateNs, [...(held.get(stateNs) ?? []), ...(held.get(ns) ?? [])]);
      held.delete(ns);
    }
  };
  for (const step of steps) {
    set.load();
    if ('add' in step) {
      const w: Window = { start: step.add[0], end: step.add[1] };
      const actual = set.addWindow(w, onMerge);
      const ns = set.stateNamespaceOf(actual)!;
      expect(ns).toBeDefined();
      held.set(ns, [...(held.get(ns) ?? []), id]);
      // Reference: the new window and every session it touches become one.
      const touching = ref.filter((r) => r.start <= w.end && w.start <= r.end);
      const joined: RefSession = {
        start: Math.min(w.start, ...touching.map((r) => r.start)),
        end: Math.max(w.end, ...touching.map((r) => r.end)),
        ids: [...touching.flatMap((r) => r.ids), id],
      };
      ref = [...ref.filter((r) => !touching.includes(r)), joined];
      expect(actual).toEqual({ start: joined.start, end: joined.end });
      id++;
    } else if ('retire' in step) {
      if (ref.length === 0) continue;
      const r = ref[step.retire % ref.length]!;
      const ns = set.stateNamespaceOf(r)!;
      set.retireWindow(r);
      held.delete(ns);
      ref = ref.filter((x) => x !== r);
    } else {
      set.persist();
      const snapshot = backend.snapshot();
      backend = new MemoryStateBackend({ clock });
      backend.restore(snapshot);
      set = open();
      held = new Map(held);
      continue;
    }
    set.persist();
    // Every live session maps to a state window holding exactly its records.
    set.load();
    expect(set.size).toBe(ref.length);
    for (const r of ref) {
      const ns = set.stateNamespaceOf(r);
      expect(ns, `session [${r.start}, ${r.end})`).toBeDefined();
      expect([...held.get(ns!)!].sort((a, b) => a - b)).toEqual([...r.ids].sort((a, b) => a - b));
    }
  }
}

describe(`merging window set (seed ${SEED})`, () => {
  it('maps every live session to a state window holding exactly its records (built-in time-window merge)', async () => {
    await checkProperty(fc.asyncProperty(ops, async (steps) => runAgainstReference(steps, mergeTimeWindows)), propertyRuns(200));
  });

  it('the same through the generic path any merging assigner takes', async () => {
    await checkProperty(fc.asyncProperty(ops, async (steps) => runAgainstReference(steps, genericMerge)), propertyRuns(200));
  });

  it.each([
    ['built-in', mergeTimeWindows],
    ['generic', genericMerge],
  ])('extending a session moves no state: it stays under the first window (%s)', (_name, merge) => {
    const backend = new MemoryStateBackend({ clock: new ManualClock(0) });
    backend.setCurrentKey('k');
    const set = new MergingWindowSet(backend.getState(STATE), merge);
    const moves: string[][] = [];
    const onMerge: MergeFunction = (_r, _m, _ns, mergedStateNs) => moves.push([...mergedStateNs]);
    set.load();
    let w: Window = { start: 0, end: 10 };
    for (let t = 0; t < 100; t += 5) {
      w = set.addWindow({ start: t, end: t + 10 }, onMerge);
      expect(set.stateNamespaceOf(w)).toBe('0,10');
    }
    expect(w).toEqual({ start: 0, end: 105 });
    expect(moves).toHaveLength(19); // every record after the first extends the session…
    expect(moves.every((m) => m.length === 0)).toBe(true); // …and no state moves
    // A record inside the session neither merges nor moves anything.
    expect(set.addWindow({ start: 50, end: 60 }, onMerge)).toEqual({ start: 0, end: 105 });
    expect(moves).toHaveLength(19);
  });

  it('reads the older layout (live windows only, each its own state window)', () => {
    const backend = new MemoryStateBackend({ clock: new ManualClock(0) });
    backend.setCurrentKey('k');
    backend.getState(valueState<Window[]>('merging-windows')).update([{ start: 0, end: 10 }, { start: 20, end: 30 }]);
    const set = new MergingWindowSet(backend.getState(STATE), mergeTimeWindows);
    set.load();
    expect(set.stateNamespaceOf({ start: 20, end: 30 })).toBe('20,30');
    const merged: string[][] = [];
    expect(set.addWindow({ start: 10, end: 20 }, (_r, _m, ns, others) => merged.push([ns, ...others]))).toEqual({ start: 0, end: 30 });
    expect(merged).toEqual([['0,10', '20,30']]);
  });
});

// ---- the operator ----

type Ev = { k: string; ts: number };
type Out = WindowResult<string, number>;

function sessions(): OperatorHarness<Ev, Out> {
  const assigner = session<Ev>(10);
  const op = new WindowOperator<Ev, string, Out>(
    { assigner, trigger: eventTimeTrigger(), allowedLatenessMs: 0, fn: { kind: 'aggregate', aggregate: count() }, keyed: true },
    (e) => e.k,
  );
  return OperatorHarness.of<Ev, Out>(op, { uid: 'sessions' });
}
const rows = (h: OperatorHarness<Ev, Out>) => h.values.map((r) => `${r.key} [${r.start},${r.end}) ${r.value}`);

describe('session operator state', () => {
  it('keeps a growing session under its first window: the state has one namespace for it', () => {
    const h = sessions();
    for (const ts of [0, 5, 12, 20]) h.processElement({ k: 'a', ts }, ts);
    // The snapshot is the public view of the state: contents under 0,10 only, never under a later window.
    const snapshot = JSON.stringify(h.snapshot());
    expect(snapshot).toContain('0,10');
    expect(snapshot).not.toContain('0,22'); // [0,22) was live between the 12 and the 20
    h.processWatermark(100);
    expect(rows(h)).toEqual(['a [0,30) 4']);
  });

  it('sessions survive a snapshot and restore, and merge afterwards with their contents', () => {
    const before = sessions();
    before.processElement({ k: 'a', ts: 0 }, 0).processElement({ k: 'a', ts: 5 }, 5); // [0,15) under 0,10
    before.processElement({ k: 'a', ts: 30 }, 30); // [30,40)
    before.processElement({ k: 'b', ts: 1 }, 1);
    const restored = sessions().initializeState(before.snapshot());
    restored.processElement({ k: 'a', ts: 20 }, 20); // [20,30) bridges [0,15)? no: it touches [30,40) only
    restored.processElement({ k: 'a', ts: 14 }, 14); // [14,24) bridges [0,15) and [20,40)
    restored.processWatermark(100);
    expect(rows(restored).sort()).toEqual(['a [0,40) 5', 'b [1,11) 1']);
  });
});
