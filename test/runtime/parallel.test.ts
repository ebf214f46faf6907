import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, collectSink, generator } from '../../src/index.js';
import { build, event, type FixtureOptions } from '../fixtures/jobs/parallel-jobs.js';
import { buildPreAggregate, hotEvent, type PreAggregateFixture } from '../fixtures/jobs/pre-aggregate-jobs.js';
import { committedLines } from '../checkpoint/helpers.js';

/** Runs a fixture job to its end; the main thread's collect sink has everything. */
async function run(o: FixtureOptions): Promise<unknown[]> {
  const { job, out } = build(o);
  await job.run({ moduleArgs: [JSON.stringify(o)] });
  return out.values;
}
const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

describe('parallelism on worker threads', () => {
  it('a keyed running count (state in a closure, per subtask) gives the same results at parallelism 1, 2 and 3', async () => {
    const base = { kind: 'running-count', events: 6000, users: 97 } as const;
    const one = sorted(await run({ ...base, parallelism: 1 }));
    expect(one).toHaveLength(6000);
    expect(sorted(await run({ ...base, parallelism: 2 }))).toEqual(one);
    expect(sorted(await run({ ...base, parallelism: 3, sourceParallelism: 1 }))).toEqual(one);
  }, 60_000);

  it('per key, records keep their order across the exchange', async () => {
    const values = (await run({ kind: 'running-count', events: 4000, users: 11, parallelism: 2 })) as Array<[number, number]>;
    const seen = new Map<number, number>();
    for (const [user, n] of values) {
      expect(n).toBe((seen.get(user) ?? 0) + 1);
      seen.set(user, n);
    }
  }, 30_000);

  it('event-time windows over parallel readers wait for the slowest channel: results equal a batch count', async () => {
    const o = { kind: 'windows', events: 5000, users: 13, parallelism: 2 } as const;
    const expected = new Map<string, number>();
    for (let i = 0; i < o.events; i++) {
      const e = event(i, o.users);
      const k = JSON.stringify([e.user, Math.floor(e.at / 1000) * 1000]);
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    const got = (await run(o)) as Array<[number, number, number]>;
    expect(new Map(got.map(([user, start, n]) => [JSON.stringify([user, start]), n]))).toEqual(expected);
    expect(got).toHaveLength(expected.size);
  }, 30_000);

  it('a forward edge between steps of different parallelism rebalances, and explain() shows the subtasks', async () => {
    const o = { kind: 'rebalance', events: 2000, users: 1, parallelism: 3 } as const;
    expect(build(o).job.explain()).toMatch(/task 2 x3 {2}<- rebalance from 'numbers'/);
    const got = (await run(o)) as number[];
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i * 2));
  }, 30_000);

  it('rebalance() and broadcast() partition explicitly: a broadcast record reaches every subtask', async () => {
    const o = { kind: 'broadcast', events: 1000, users: 1, parallelism: 2 } as const;
    expect(build(o).job.explain()).toMatch(/broadcast from 'plus-one'/);
    const got = (await run(o)) as number[];
    const once = Array.from({ length: 1000 }, (_, i) => (i + 1) * 10);
    expect(got.sort((a, b) => a - b)).toEqual([...once, ...once].sort((a, b) => a - b));
  }, 30_000);

  it('broadcast state reaches every subtask of a keyed step in worker threads', async () => {
    const got = (await run({ kind: 'broadcast-state', events: 3000, users: 40, parallelism: 3 })) as string[];
    expect(got.filter((l) => l.startsWith('rule')).sort()).toEqual(['rule even', 'rule even', 'rule even', 'rule odd', 'rule odd', 'rule odd']);
    expect(got.filter((l) => l.startsWith('event'))).toHaveLength(3000);
  }, 30_000);

  it('broadcast state survives rescaling: after a savepoint at 2, every subtask at 3 and at 1 has the rules (their source does not read again)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-p-broadcast-'));
    const base = { kind: 'broadcast-state', events: 1_000_000, users: 40, dir, sourceParallelism: 1, rate: 20_000 } as const;
    const first = build({ ...base, parallelism: 2 });
    const r1 = first.job.start({ moduleArgs: [JSON.stringify({ ...base, parallelism: 2 })] });
    // Both rules on both subtasks (the rules' reader in the worker starts later than the events).
    await until(() => (first.out.values as string[]).filter((l) => l.startsWith('rule')).length === 4);
    await r1.stopWithSavepoint(join(dir, 'sp'));
    for (const parallelism of [3, 1]) {
      const o = { ...base, parallelism, events: 30_000 };
      const next = build(o);
      const r = next.job.start({ moduleArgs: [JSON.stringify(o)], fromSavepoint: join(dir, 'sp') });
      await r.done;
      const lines = next.out.values as string[];
      expect(lines.length).toBeGreaterThan(1000);
      expect(lines.filter((l) => l.startsWith('rule') || l.endsWith('no rule'))).toEqual([]);
    }
  }, 60_000);

  it('metrics count per subtask, also those of worker threads', async () => {
    const o = { kind: 'running-count', events: 4000, users: 50, parallelism: 2 } as const;
    const { job } = build(o);
    const running = job.start({ moduleArgs: [JSON.stringify(o)] });
    await running.done;
    const steps = running.monitor.metrics.snapshot().steps.filter((s) => s.uid === 'count');
    expect(steps.map((s) => s.subtask).sort()).toEqual([0, 1]);
    expect(steps.every((s) => s.recordsIn > 0)).toBe(true);
    expect(steps.reduce((n, s) => n + s.recordsIn, 0)).toBe(4000);
    const tasks = running.monitor.metrics.snapshot().tasks.filter((t) => t.name.startsWith('count#'));
    expect(tasks.map((t) => t.subtask).sort()).toEqual([0, 1]);
  }, 30_000);

  it('dead letters from workers wait for room in the main thread’s bounded queue (credit), none lost', async () => {
    const o = { kind: 'slow-dead-letters', events: 3000, users: 7, parallelism: 2 } as const;
    const { job, out } = build(o);
    const queue = job.deadLetterQueueOf!;
    let most = 0;
    const sampling = setInterval(() => (most = Math.max(most, queue.size)), 2);
    await job.run({ moduleArgs: [JSON.stringify(o)] });
    clearInterval(sampling);
    const failed = out.values.map((v) => Number(/bad event (\d+)/.exec(String(v))?.[1])).sort((a, b) => a - b);
    expect(failed).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    // The queue holds 128; a worker may have 128 more unacknowledged, and a batch arrives whole.
    expect(queue.capacity).toBe(128);
    expect(most).toBeLessThanOrEqual(2 * 128 + 64);
  }, 30_000);

  it('a user function that throws in a worker thread fails the job with the step and the record', async () => {
    await expect(run({ kind: 'failing', events: 2000, users: 7, parallelism: 2 })).rejects.toThrow(/step 'picky'.*bad event 1000/s);
  }, 30_000);

  it('dead letters from every worker reach the job’s dead-letter stream, none lost', async () => {
    const got = await run({ kind: 'dead-letters', events: 3000, users: 7, parallelism: 2 });
    const letters = got.filter((v) => typeof v === 'string');
    expect(letters).toHaveLength(30);
    expect(got.filter((v) => typeof v === 'number')).toHaveLength(2970);
  }, 30_000);

  it('a step cannot have more subtasks than key groups (the max parallelism)', () => {
    const job = new Job({ name: 'too-wide', parallelism: 9, maxParallelism: 8, module: import.meta.url });
    job.source(generator({ make: (i) => i, count: 10 }), { uid: 'n' }).sinkTo(collectSink());
    expect(() => job.explain()).toThrow(/parallelism 9 must be an integer in \[1, 8\]/);
  });

  it('a job with parallelism above 1 and no module is refused with a hint', () => {
    const job = new Job({ name: 'nomodule', parallelism: 2 });
    job.source(generator({ make: (i) => i, count: 10 }), { uid: 'n' }).sinkTo(collectSink());
    expect(() => job.start()).toThrow(/module: import\.meta\.url/);
  });

  /**
   * Runs a running count at parallelism 2, stops it with a savepoint, goes on at 3, stops
   * again, and ends at 1; gives the union of the three runs' output and an uninterrupted
   * run's. Records after a savepoint's barrier may be emitted twice (before the stop, and
   * after the restore) with the same counts, so the outputs are sets: a key whose state did
   * not move would count from 1 again, a lost record would leave a gap.
   */
  async function rescaled(sourceParallelism: 1 | undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-rescale-'));
    const base = { kind: 'running-count', events: 30_000, users: 101, dir, sourceParallelism } as const;
    const start = (o: FixtureOptions, fromSavepoint?: string) => {
      const b = build(o);
      return { ...b, running: b.job.start({ moduleArgs: [JSON.stringify(o)], fromSavepoint }) };
    };
    const first = start({ ...base, parallelism: 2, rate: 60_000 });
    await until(() => first.out.values.length >= 5000);
    await first.running.stopWithSavepoint(join(dir, 'sp1'));

    const second = start({ ...base, parallelism: 3, rate: 60_000 }, join(dir, 'sp1'));
    await until(() => second.out.values.length >= 5000);
    await second.running.stopWithSavepoint(join(dir, 'sp2'));

    const third = start({ ...base, parallelism: 1 }, join(dir, 'sp2'));
    await third.running.done;
    const uninterrupted = await run({ ...base, parallelism: 1, dir: mkdtempSync(join(tmpdir(), 'sluice-rescale-')) });
    return { union: new Set(sorted([...first.out.values, ...second.out.values, ...third.out.values])), uninterrupted: sorted(uninterrupted) };
  }

  it('rescaling 2 -> 3 -> 1 through savepoints: state moves by key group, counts go on as in an uninterrupted run', async () => {
    const { union, uninterrupted } = await rescaled(1);
    expect([...union].sort()).toEqual(uninterrupted);
    expect(union.size).toBe(30_000);
  }, 90_000);

  it('rescaling 2 -> 3 -> 1 with parallel readers: their splits of the input move between readers, none lost or read twice', async () => {
    const { union, uninterrupted } = await rescaled(undefined);
    expect([...union].sort()).toEqual(uninterrupted);
    expect(union.size).toBe(30_000);
  }, 90_000);

  it('a failure at parallelism 2 restarts from the latest checkpoint, and the exactly-once sink commits every result once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-p2-eo-'));
    const o = { kind: 'exactly-once', events: 40_000, users: 53, dir, parallelism: 2, rate: 40_000 } as const;
    const { job } = build(o);
    const running = job.start({ moduleArgs: [JSON.stringify(o)] });
    await running.done;
    expect(running.restarts).toBe(1);
    // Checkpoints of every thread's tasks completed (and sinks committed) before and after the restart.
    expect(running.checkpoints.filter((c) => c.status === 'completed').length).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(dir, 'crashed'))).toBe(true);
    const expected: string[] = [];
    const counts = new Map<number, number>();
    for (let i = 0; i < o.events; i++) {
      const { user } = event(i, o.users);
      const n = (counts.get(user) ?? 0) + 1;
      counts.set(user, n);
      expected.push(JSON.stringify(`${user},${n}`));
    }
    expect(committedLines(dir)).toEqual(expected.sort());
  }, 60_000);

  it('windows pre-aggregated before the exchange (a hot key, partials across threads) give the one-phase results at parallelism 1 and 2', async () => {
    const results = async (o: PreAggregateFixture) => {
      const { job, out } = buildPreAggregate(o);
      await job.run({ moduleArgs: [JSON.stringify(o)] });
      return sorted(out.values);
    };
    const events = 6000;
    const one = await results({ events, parallelism: 1, preAggregate: false });
    // Every (user, 100 ms window) of the input fires once, on time.
    const windows = new Set(Array.from({ length: events }, (_, i) => hotEvent(i)).map((e) => `${e.user}/${Math.floor(e.at / 100)}`));
    expect(one.filter((r) => r.startsWith('["count"'))).toHaveLength(windows.size);
    expect(await results({ events, parallelism: 2, preAggregate: true })).toEqual(one);
    expect(await results({ events, parallelism: 2, preAggregate: true, sourceParallelism: 1 })).toEqual(one);
  }, 60_000);
});
