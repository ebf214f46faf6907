import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, collectSink, generator, valueState, type KeyedProcessFunction, type ValueState } from '../../src/index.js';

const EVENTS = 20_000;
const USERS = 13;
const make = (i: number) => ({ user: i % USERS, i });

/** v1: a running count per user in a plain number. */
function countV1(): KeyedProcessFunction<number, { user: number }, [number, number]> {
  let count!: ValueState<number>;
  return {
    open: (ctx) => {
      count = ctx.state(valueState<number>('count'));
    },
    processElement: (e, _ctx, out) => {
      const n = (count.value() ?? 0) + 1;
      count.update(n);
      out.collect([e.user, n]);
    },
  };
}

/** v2: the same count, now an object (state version 2, migrated from v1's number). */
function countV2(): KeyedProcessFunction<number, { user: number }, [number, number]> {
  let count!: ValueState<{ n: number }>;
  return {
    open: (ctx) => {
      count = ctx.state(valueState<{ n: number }>('count', { version: 2, migrate: (old) => ({ n: old as number }) }));
    },
    processElement: (e, _ctx, out) => {
      const n = (count.value()?.n ?? 0) + 1;
      count.update({ n });
      out.collect([e.user, n]);
    },
  };
}

function job(dir: string, version: 1 | 2, opts: { rate?: number; extraStep?: boolean; dropCount?: boolean } = {}) {
  const j = new Job({ name: 'counts', batchSize: 100, checkpoints: { interval: '1h', dir: join(dir, 'checkpoints') } });
  const out = collectSink<[number, number]>();
  const src = j.source(generator({ make, count: EVENTS, ratePerSecond: opts.rate }), { uid: 'events' });
  if (opts.dropCount) {
    src.map((e) => [e.user, 0] as [number, number]).sinkTo(out);
    return { job: j, out };
  }
  const counted = src.keyBy('user').process(version === 1 ? countV1() : countV2(), { uid: 'count' });
  (opts.extraStep ? counted.filter(() => true, { uid: 'new-step' }) : counted).sinkTo(out);
  return { job: j, out };
}

describe('savepoints', () => {
  it('stop-with-savepoint, then a changed job (new step, state version 2) goes on from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sp-'));
    const first = job(dir, 1, { rate: 40_000 });
    const running = first.job.start();
    while (first.out.values.length < 2000) await new Promise((r) => setTimeout(r, 20));
    const savepoint = join(dir, 'savepoint');
    const handle = await running.stopWithSavepoint(savepoint);
    expect(await running.done).toEqual({ status: 'cancelled' });
    expect(handle.kind).toBe('savepoint');

    const second = job(dir, 2, { extraStep: true });
    await second.job.run({ fromSavepoint: savepoint });
    // The final count per user is the batch count over all events: nothing lost, nothing counted twice.
    const last = new Map<number, number>();
    for (const [user, n] of [...first.out.values, ...second.out.values]) last.set(user, Math.max(last.get(user) ?? 0, n));
    for (let u = 0; u < USERS; u++) expect(last.get(u)).toBe(Math.floor((EVENTS - 1 - u) / USERS) + 1);
    // Counting went on from the saved counts: the first record after the restore was not counted as 1.
    expect(second.out.values.length).toBe(EVENTS - (first.out.values.length - countAfterSavepoint(first.out.values, second.out.values)));
  }, 30_000);

  it('refuses a savepoint with state of a step the job lost, unless allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sp-'));
    const first = job(dir, 1, { rate: 40_000 });
    const running = first.job.start();
    while (first.out.values.length < 500) await new Promise((r) => setTimeout(r, 20));
    const savepoint = join(dir, 'savepoint');
    await running.stopWithSavepoint(savepoint);
    await running.done;
    await expect(job(dir, 1, { dropCount: true }).job.run({ fromSavepoint: savepoint })).rejects.toThrow(/STATE_NOT_RESTORED.*'count'/);
    const allowed = job(dir, 1, { dropCount: true });
    await allowed.job.run({ fromSavepoint: savepoint, allowNonRestoredState: true });
    expect(allowed.out.values.length).toBeGreaterThan(0);
    expect(allowed.out.values.length).toBeLessThan(EVENTS); // the source resumed from its saved position
  }, 30_000);

  it('refuses to restore a newer state version into an older declaration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sp-'));
    const v2 = job(dir, 2, { rate: 40_000 });
    const running = v2.job.start();
    while (v2.out.values.length < 500) await new Promise((r) => setTimeout(r, 20));
    const savepoint = join(dir, 'savepoint');
    await running.stopWithSavepoint(savepoint);
    await running.done;
    await expect(job(dir, 1).job.run({ fromSavepoint: savepoint })).rejects.toThrow(/stored by version 2 but is declared as version 1/);
  }, 30_000);
});

/** Records the first run emitted after the savepoint's barrier (they are emitted again by the second run). */
function countAfterSavepoint(first: [number, number][], second: [number, number][]): number {
  // The second run starts each user at (saved count + 1); anything the first run emitted beyond that was after the barrier.
  const resumedAt = new Map<number, number>();
  for (const [u, n] of second) if (!resumedAt.has(u)) resumedAt.set(u, n);
  return first.filter(([u, n]) => n >= (resumedAt.get(u) ?? Number.POSITIVE_INFINITY)).length;
}
