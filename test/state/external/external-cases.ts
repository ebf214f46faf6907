/**
 * The external backends' checkpoint cases (Redis, Cassandra), against the real stores:
 * checkpoints compared with the state at the barrier (fast-check), a crash between writing
 * a version and completing the checkpoint, rescaling 2 -> 3 -> 1 by key group without
 * writing to the store.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapState, valueState } from '../../../src/state/descriptors.js';
import type { VersionedExternalBackend } from '../../../src/state/external/versioned-backend.js';
import { keyGroupOf, keyGroupRange } from '../../../src/state/key-groups.js';
import type { KeyedStateHandle, KeyedStateSnapshot } from '../../../src/state/types.js';
import { ManualClock } from '../../../src/time/clock.js';

export const MAXP = 128;

export interface ExternalHooks {
  /** A prefix unique to this run. */
  run: string;
  /** Items the store holds under a prefix (keys, rows). */
  stored(prefix: string): Promise<number>;
  /** Removes the "written in full" mark of a version (a write cut short). */
  unmark(version: string): Promise<void>;
}

/** Defines the cases for backends `make` opens (`prefix` given: a shared one, else a fresh one). */
export function externalBackendCases(name: string, make: (clock: ManualClock, prefix?: string) => VersionedExternalBackend, hooks: ExternalHooks): void {
  type RedisStateBackend = VersionedExternalBackend;
  /** Sorted entries of a snapshot, comparable across backends whose state ids differ. */
  const canonical = (s: KeyedStateSnapshot): unknown => JSON.parse(JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Float64Array || v instanceof Uint16Array ? [...v] : v)));

  describe(`${name} backend: checkpoints`, () => {
    it('a restore from the handle of checkpoint i gives the state at barrier i, for random writes and checkpoints (fast-check)', async () => {
      type Op = { op: 'put'; key: number; v: number } | { op: 'del'; key: number } | { op: 'map'; key: number; mk: string; v: number } | { op: 'cp' };
      const opArb: fc.Arbitrary<Op> = fc.oneof(
        { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.integer({ min: 0, max: 40 }), v: fc.integer() }) },
        { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), key: fc.integer({ min: 0, max: 40 }) }) },
        { weight: 3, arbitrary: fc.record({ op: fc.constant('map' as const), key: fc.integer({ min: 0, max: 40 }), mk: fc.constantFrom('a', 'b', 'é'), v: fc.integer() }) },
        { weight: 1, arbitrary: fc.constant({ op: 'cp' as const }) },
      );
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 120 }), async (ops) => {
          const clock = new ManualClock(0);
          const b = make(clock);
          const v = b.getState(valueState<number>('v'));
          const m = b.getState(mapState<string, number>('m'));
          const taken: Array<{ handle: KeyedStateHandle; at: unknown }> = [];
          let id = 1;
          for (const o of [...ops, { op: 'cp' as const }]) {
            if (o.op === 'cp') {
              const at = canonical(b.snapshot());
              taken.push({ handle: await b.checkpointTo('', id++), at });
              continue;
            }
            b.setCurrentKey(o.key);
            if (o.op === 'put') v.update(o.v);
            else if (o.op === 'del') v.clear();
            else m.put(o.mk, o.v);
          }
          // Every checkpoint, not only the last: older handles name older versions only.
          for (const { handle, at } of taken) {
            const fresh = make(clock);
            await fresh.restoreHandle(handle);
            expect(canonical(fresh.snapshot())).toEqual(at);
            await fresh.destroy();
          }
          await b.destroy();
        }),
        { numRuns: 15 },
      );
    }, 120_000);

    it('a crash after a version is written but before its checkpoint completes restores the previous checkpoint exactly', async () => {
      const clock = new ManualClock(0);
      const b = make(clock);
      const v = b.getState(valueState<string>('v'));
      for (let i = 0; i < 300; i++) {
        b.setCurrentKey(i);
        v.update(`first-${i}`);
      }
      const completed = await b.checkpointTo('', 1);
      // The figures behind sluice_state_flush_seconds and sluice_state_flush_round_trips: 300 records and the registry.
      expect(b.stats().lastFlush).toMatchObject({ records: expect.any(Number), roundTrips: expect.any(Number) });
      expect(b.stats().lastFlush!.records).toBeGreaterThanOrEqual(300);
      expect(b.stats().lastFlush!.records).toBeLessThan(310);
      const atCompleted = canonical(b.snapshot());
      for (let i = 0; i < 300; i += 2) {
        b.setCurrentKey(i);
        if (i % 4 === 0) v.clear();
        else v.update(`second-${i}`);
      }
      // Checkpoint 2 writes its version to Redis, then the process dies before the checkpoint
      // completes: no completed checkpoint holds its handle.
      const lost = await b.checkpointTo('', 2);
      expect(lost.chain).toHaveLength(2);
      expect(await hooks.stored(lost.chain[1]!)).toBeGreaterThan(0); // its writes are in the store
      const restarted = make(clock);
      await restarted.restoreHandle(completed);
      expect(canonical(restarted.snapshot())).toEqual(atCompleted);
      // A version whose write was cut short (no `written` marker) is refused, not half-read.
      await hooks.unmark(lost.chain[1]!);
      await expect(make(clock).restoreHandle(lost)).rejects.toMatchObject({ code: 'STATE_INCOMPATIBLE' });
      await restarted.destroy();
      await b.destroy();
    });

    it('rescales 2 -> 3 -> 1 by key group, reading the old subtasks’ groups without writing to the store', async () => {
      const clock = new ManualClock(0);
      const prefix = `${hooks.run}:rescale`;
      const keys = Array.from({ length: 400 }, (_, i) => `user-${i}`);
      const all = make(clock, `${hooks.run}:reference`);
      const write = (b: RedisStateBackend, key: string): void => {
        b.setCurrentKey(key);
        b.getState(valueState<number>('count')).update(key.length * 7);
        b.getState(mapState<string, string>('seen')).put('k', key);
      };
      for (const k of keys) write(all, k);
      const expected = canonical(all.snapshot());
      // Parallelism 2: each subtask writes the keys of its key groups.
      const two = [0, 1].map((i) => ({ range: keyGroupRange(i, 2, MAXP), b: make(clock, prefix) }));
      for (const k of keys) write(two.find((t) => keyGroupOf(k, MAXP) >= t.range.from && keyGroupOf(k, MAXP) <= t.range.to)!.b, k);
      const handles2 = await Promise.all(two.map((t, i) => t.b.checkpointTo('', 10 + i)));
      const written = await hooks.stored(prefix);
      // Parallelism 3: each new subtask reads only its key groups, from both old chains.
      const three = [0, 1, 2].map((i) => ({ range: keyGroupRange(i, 3, MAXP), b: make(clock) }));
      for (const t of three) for (const h of handles2) await t.b.restoreHandle(h, t.range);
      expect(await hooks.stored(prefix)).toEqual(written); // nothing was moved or rewritten in the store
      for (const t of three) {
        for (const k of t.b.keys('count')) expect(keyGroupOf(k, MAXP)).toBeGreaterThanOrEqual(t.range.from);
      }
      expect(three.reduce((s, t) => s + t.b.keys('count').length, 0)).toBe(keys.length);
      const handles3 = await Promise.all(three.map((t, i) => t.b.checkpointTo('', 20 + i)));
      // Parallelism 1.
      const one = make(clock);
      for (const h of handles3) await one.restoreHandle(h);
      expect(canonical(one.snapshot())).toEqual(expected);
      for (const b of [all, one, ...two.map((t) => t.b), ...three.map((t) => t.b)]) await b.destroy();
    });
  });
}
