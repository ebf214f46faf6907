import { describe, expect, it } from 'vitest';
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from '../../src/core/functions.js';
import { SluiceError, keyGroupOf, keyGroupRange, mapState, subtaskForKey, valueState, type BroadcastState, type ValueState } from '../../src/index.js';
import type { KeyedBroadcastProcessSnapshot } from '../../src/runtime/operators/keyed-broadcast-process.js';
import { OperatorHarness, type OperatorHarnessOptions } from '../../src/testing/index.js';

interface Click {
  user: string;
  at: number;
}

const modes = mapState<string, string>('modes');
const countState = valueState<number>('count');

/**
 * Counts clicks per user; each click arms a timer at `at + 100` that reports the count
 * and the mode broadcast for the user's first letter (or 'default'). A broadcast
 * `[prefix, mode]` sets a mode; `['!report', …]` reports every key's count.
 */
function modeCounter(): KeyedBroadcastProcessFunction<string, Click, [string, string], string> {
  let count!: ValueState<number>;
  return {
    open(ctx) {
      count = ctx.state(countState);
    },
    processElement(click, ctx) {
      count.update((count.value() ?? 0) + 1);
      ctx.timerService.registerEventTimeTimer(click.at + 100);
    },
    onTimer(ts, ctx, out) {
      const mode = ctx.getBroadcastState(modes).get(ctx.key[0]!) ?? 'default';
      out.collect(`${ctx.key}@${ts} n=${count.value()} ${mode}`);
    },
    processBroadcastElement([prefix, mode], ctx, out) {
      if (prefix === '!report') ctx.applyToKeyedState(countState, (user, n) => out.collect(`${user}=${n.value()}`));
      else ctx.getBroadcastState(modes).put(prefix, mode);
    },
  };
}

function harness(options: OperatorHarnessOptions = {}) {
  return OperatorHarness.keyedBroadcastProcess(modeCounter(), (c: Click) => c.user, [modes], options);
}

const BROADCAST = 1;

describe('KeyedBroadcastProcessOperator', () => {
  it('snapshot and restore at the same parallelism keep keyed state, timers and broadcast state', () => {
    const h = harness();
    h.processElement(['a', 'strict'], Number.NaN, BROADCAST);
    h.processElement({ user: 'ann', at: 10 }, 10).processElement({ user: 'ann', at: 20 }, 20).processElement({ user: 'bob', at: 30 }, 30);
    const snapshot = h.snapshot() as KeyedBroadcastProcessSnapshot;
    expect(snapshot.broadcast).toEqual({ states: { modes: { entries: [['a', 'strict']] } } });
    expect(snapshot.eventTimers).toHaveLength(3);

    const restored = harness().initializeState(snapshot);
    restored.processWatermark(1000);
    expect([...restored.values].sort()).toEqual(['ann@110 n=2 strict', 'ann@120 n=2 strict', 'bob@130 n=1 default']);
    restored.processElement(['!report', ''], Number.NaN, BROADCAST);
    expect(restored.take().slice(3).sort()).toEqual(['ann=2', 'bob=1']);
  });

  it('a snapshot is a copy: later broadcast writes do not reach it, and restoring does not share it', () => {
    const objects = mapState<string, { n: number }>('objects');
    const fn: KeyedBroadcastProcessFunction<string, string, number, number> = {
      processElement: (_v, ctx, out) => out.collect(ctx.getBroadcastState(objects).get('x')!.n),
      processBroadcastElement(n, ctx) {
        const state = ctx.getBroadcastState(objects);
        const current = state.get('x');
        if (current) current.n = n; // changed in place: allowed where the state is writable
        else state.put('x', { n });
      },
    };
    const h = OperatorHarness.keyedBroadcastProcess(fn, (s: string) => s, [objects]);
    h.processElement(1, Number.NaN, BROADCAST);
    const snapshot = h.snapshot() as KeyedBroadcastProcessSnapshot;
    h.processElement(2, Number.NaN, BROADCAST);
    expect(snapshot.broadcast.states.objects!.entries).toEqual([['x', { n: 1 }]]);
    const r = OperatorHarness.keyedBroadcastProcess(fn, (s: string) => s, [objects]).initializeState(snapshot);
    r.processElement(3, Number.NaN, BROADCAST).processElement('k');
    expect(r.values).toEqual([3]);
    expect(snapshot.broadcast.states.objects!.entries).toEqual([['x', { n: 1 }]]);
  });

  it('broadcast state is read only in onTimer too, at run time', () => {
    const fn: KeyedBroadcastProcessFunction<string, string, string, string> = {
      processElement: (_v, ctx) => ctx.timerService.registerEventTimeTimer(5),
      onTimer: (_ts, ctx) => (ctx.getBroadcastState(modes) as BroadcastState<string, string>).remove('a'),
      processBroadcastElement: () => {},
    };
    const h = OperatorHarness.keyedBroadcastProcess(fn, (s: string) => s, [modes], { uid: 'timers' });
    h.processElement('k', 1);
    const e = (() => {
      try {
        h.processWatermark(10);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(SluiceError);
    expect(e).toMatchObject({ code: 'BROADCAST_STATE_READ_ONLY', step: 'timers' });
    expect((e as Error).message).toContain('remove() was called');
  });

  describe('restoring at another parallelism (initializeStateParts)', () => {
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);

    /** What each of `parallelism` old subtasks would hold: the same broadcast records, the clicks of its own keys (hash routing). */
    function oldSubtasks(parallelism: number): KeyedBroadcastProcessSnapshot[] {
      return Array.from({ length: parallelism }, (_, index) => {
        const h = harness({ subtask: { index, parallelism } });
        h.processElement(['u', 'strict'], Number.NaN, BROADCAST).processElement(['x', 'lax'], Number.NaN, BROADCAST);
        users.forEach((user, i) => {
          if (subtaskForKey(user, parallelism) !== index) return;
          for (let n = 0; n <= i % 3; n++) h.processElement({ user, at: i }, i);
        });
        return h.snapshot() as KeyedBroadcastProcessSnapshot;
      });
    }

    it('takes the broadcast state of the old subtasks, and keyed state and timers of its own key groups only', () => {
      const parts = oldSubtasks(2);
      // Each old subtask held part of the keys, and all of the broadcast state.
      expect(parts.every((p) => p.broadcast.states.modes!.entries.length === 2)).toBe(true);
      for (const parallelism of [1, 3]) {
        const seen = new Set<string>();
        for (let index = 0; index < parallelism; index++) {
          const h = harness({ subtask: { index, parallelism } }).initializeStateParts(parts).open();
          const range = keyGroupRange(index, parallelism);
          const mine = users.filter((u) => subtaskForKey(u, parallelism) === index);
          const keys = h.keys('count') as string[];
          expect([...keys].sort()).toEqual([...mine].sort());
          for (const k of keys) {
            expect(keyGroupOf(k)).toBeGreaterThanOrEqual(range.from);
            expect(keyGroupOf(k)).toBeLessThanOrEqual(range.to);
            expect(seen.has(k)).toBe(false);
            seen.add(k);
          }
          expect(new Set(h.timers().eventTime.map((t) => t.key))).toEqual(new Set(mine));
          // The broadcast state came along: the timers read it, main records too.
          h.processWatermark(10_000);
          const reports = h.take();
          expect(reports).toHaveLength(mine.length);
          for (const r of reports) expect(r).toMatch(/^user-\d+@\d+ n=[123] strict$/);
          h.processElement(['!report', ''], Number.NaN, BROADCAST);
          expect(h.take().sort()).toEqual(mine.map((u) => `${u}=${(users.indexOf(u) % 3) + 1}`).sort());
        }
        // Together the new subtasks hold every key exactly once.
        expect(seen.size).toBe(users.length);
      }
    });

    it('takes the broadcast state from the first old subtask that had state', () => {
      const [first] = oldSubtasks(2);
      const h = harness({ subtask: { index: 0, parallelism: 3 } }).initializeStateParts([undefined, first]);
      expect((h.snapshot() as KeyedBroadcastProcessSnapshot).broadcast.states.modes!.entries).toEqual([
        ['u', 'strict'],
        ['x', 'lax'],
      ]);
    });
  });

  it('a broadcast state of a newer version migrates what an older one stored', () => {
    const v1 = mapState<string, string>('modes');
    const v2 = mapState<string, { mode: string }>('modes', {
      version: 2,
      migrate: (pairs) => (pairs as Array<[string, string]>).map(([k, mode]) => [k, { mode }]),
    });
    const writer: KeyedBroadcastProcessFunction<string, string, [string, string], string> = {
      processElement: () => {},
      processBroadcastElement: ([k, v], ctx) => ctx.getBroadcastState(v1).put(k, v),
    };
    const old = OperatorHarness.keyedBroadcastProcess(writer, (s: string) => s, [v1]);
    old.processElement(['a', 'strict'], Number.NaN, BROADCAST);
    const snapshot = old.snapshot();

    const reader: KeyedBroadcastProcessFunction<string, string, never, string> = {
      processElement: (_v, ctx, out) => out.collect(ctx.getBroadcastState(v2).get('a')!.mode),
      processBroadcastElement: () => {},
    };
    const h = OperatorHarness.keyedBroadcastProcess(reader, (s: string) => s, [v2]).initializeState(snapshot);
    h.processElement('k');
    expect(h.values).toEqual(['strict']);
    expect((h.snapshot() as KeyedBroadcastProcessSnapshot).broadcast.states.modes).toEqual({ entries: [['a', { mode: 'strict' }]], version: 2 });

    // An older declared version than the stored one, or a newer one without migrate, is refused.
    const back = OperatorHarness.keyedBroadcastProcess(writer, (s: string) => s, [v1]);
    expect(() => back.initializeState(h.snapshot())).toThrow(/CHECKPOINT_INVALID.*stored by version 2 but is declared as version 1/);
    const noMigrate = OperatorHarness.keyedBroadcastProcess(reader, (s: string) => s, [mapState('modes', { version: 2 })]);
    expect(() => noMigrate.initializeState(snapshot)).toThrow(/CHECKPOINT_INVALID.*has no migrate function/);
  });

  it('keeps stored broadcast state that the job no longer declares, for a later version that does', () => {
    const h = harness();
    h.processElement(['a', 'strict'], Number.NaN, BROADCAST);
    const other = mapState<string, number>('limits');
    const fn: KeyedBroadcastProcessFunction<string, string, never, string> = { processElement: () => {}, processBroadcastElement: () => {} };
    const without = OperatorHarness.keyedBroadcastProcess(fn, (s: string) => s, [other]).initializeState(h.snapshot());
    const carried = without.snapshot() as KeyedBroadcastProcessSnapshot;
    expect(carried.broadcast.states).toEqual({ limits: { entries: [] }, modes: { entries: [['a', 'strict']] } });
    const again = harness().initializeState(carried);
    again.processElement({ user: 'ann', at: 0 }, 0).processWatermark(100);
    expect(again.values).toEqual(['ann@100 n=1 strict']);
  });
});

describe('BroadcastProcessOperator (without keys)', () => {
  const fn: BroadcastProcessFunction<string, [string, string], string> = {
    processElement: (w, ctx, out) => out.collect(ctx.getBroadcastState(modes).get(w) ?? w),
    processBroadcastElement: ([k, v], ctx) => ctx.getBroadcastState(modes).put(k, v),
  };

  it('snapshots its broadcast state and restores it, at the same or another parallelism', () => {
    const h = OperatorHarness.broadcastProcess(fn, [modes]);
    h.processElement(['colour', 'color'], Number.NaN, BROADCAST).processElement('colour');
    expect(h.values).toEqual(['color']);
    const snapshot = h.snapshot();
    expect(snapshot).toEqual({ broadcast: { states: { modes: { entries: [['colour', 'color']] } } } });

    const same = OperatorHarness.broadcastProcess(fn, [modes]).initializeState(snapshot);
    expect(same.processElement('colour').values).toEqual(['color']);
    const rescaled = OperatorHarness.broadcastProcess(fn, [modes], { subtask: { index: 2, parallelism: 3 } }).initializeStateParts([undefined, snapshot]);
    expect(rescaled.processElement('colour').values).toEqual(['color']);
  });

  it('read only in processElement at run time', () => {
    const cheat: BroadcastProcessFunction<string, never, string> = {
      processElement: (_w, ctx) => (ctx.getBroadcastState(modes) as BroadcastState<string, string>).clear(),
      processBroadcastElement: () => {},
    };
    const h = OperatorHarness.broadcastProcess(cheat, [modes], { uid: 'plain' });
    expect(() => h.processElement('x')).toThrow(/BROADCAST_STATE_READ_ONLY.*step 'plain'.*clear\(\) was called/s);
  });
});
