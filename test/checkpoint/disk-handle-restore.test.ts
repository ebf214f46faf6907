import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeyedProcessFunction } from '../../src/core/functions.js';
import type { OperatorRuntime } from '../../src/runtime/operator.js';
import type { KeyedScopeSnapshot } from '../../src/runtime/operators/keyed-scope.js';
import { KeyedProcessOperator } from '../../src/runtime/operators/keyed-process.js';
import { OperatorOutputs, type Output } from '../../src/runtime/output.js';
import { DiskStateBackend, IncrementalMemoryStateBackend, keyGroupRange, ManualClock, MemoryStateBackend, valueState, type KeyedStateBackend, type ValueState } from '../../src/index.js';
import { keyGroupOf } from '../../src/state/key-groups.js';

const MAXP = 16;
const KEYS = 300;

/** A keyed count step (state 'count', `version` as given), run by hand as subtask `index` of `parallelism`. */
function countStep(
  index: number,
  parallelism: number,
  backend: (clock: ManualClock) => KeyedStateBackend,
  shared: string | undefined,
  version?: number,
  ackAfter?: (work: Promise<unknown>) => void,
) {
  const clock = new ManualClock(0);
  let b: KeyedStateBackend | undefined;
  const rt: OperatorRuntime = {
    uid: 'count',
    kind: 'process',
    clock,
    maxParallelism: MAXP,
    executionId: 'test',
    subtask: { index, parallelism, keyGroups: keyGroupRange(index, parallelism, MAXP) },
    exactlyOnce: false,
    sharedStateDir: shared,
    ackAfter,
    userError: (e) => {
      throw e;
    },
    defer: () => {},
    stateBackend: () => (b ??= backend(clock)),
    scheduleProcessingTime: (at, f) => clock.schedule(at, f),
    runInTask: (f) => f(),
  };
  const out: string[] = [];
  const main: Output<string> = { emitBatch: (batch) => out.push(...batch.values), emitWatermark: () => {}, emitIdle: () => {}, emitEnd: () => {} };
  const fn: KeyedProcessFunction<number, number, string> & { n?: ValueState<number> } = {
    open(ctx) {
      this.n = ctx.state(countState(version));
    },
    processElement(k, ctx, o) {
      const n = this.n!.value()! + 1;
      this.n!.update(n);
      o.collect(`${ctx.key}:${n}`);
    },
  };
  const op = new KeyedProcessOperator<number, number, string>(fn, (k) => k);
  op.setup(rt, new OperatorOutputs(main, new Map()));
  const feed = (keys: number[]) => op.processBatch({ values: keys, timestamps: keys.map(() => Number.NaN) });
  return { op, out, feed };
}

function countState(version?: number) {
  return valueState<number>('count', { defaultValue: 0, ...(version === undefined ? {} : { version, migrate: (v: unknown) => (v as number) * 10 }) });
}

const disk = (dir: string) => (clock: ManualClock) => new DiskStateBackend({ clock, maxParallelism: MAXP, path: mkdtempSync(join(dir, 'state-')), cacheSize: 32 });
const memory = (clock: ManualClock) => new MemoryStateBackend({ clock, maxParallelism: MAXP });
const incremental = (clock: ManualClock) => new IncrementalMemoryStateBackend({ clock, maxParallelism: MAXP });
const allKeys = Array.from({ length: KEYS }, (_, k) => k);

/** Two subtasks count every key they own once, and checkpoint into `shared/`: their handles (the disk backend's unless `backend` is given). */
async function checkpointAtTwo(dir: string, backend: (clock: ManualClock) => KeyedStateBackend = disk(dir), format = 'disk-chain'): Promise<KeyedScopeSnapshot[]> {
  const parts: KeyedScopeSnapshot[] = [];
  for (const index of [0, 1]) {
    const s = countStep(index, 2, backend, join(dir, 'shared', `count#${index}`));
    await s.op.open();
    const range = keyGroupRange(index, 2, MAXP);
    s.feed(allKeys.filter((k) => keyGroupOf(k, MAXP) >= range.from && keyGroupOf(k, MAXP) <= range.to));
    const snap = (await s.op.snapshotState(1)) as KeyedScopeSnapshot;
    expect(snap.handle?.format).toBe(format);
    expect(snap.state.states).toEqual({});
    parts.push(snap);
  }
  return parts;
}

/** Restores `parts` into one subtask on `backend` (its state declared as `version`) and counts key 7 once more: the lines it emits. */
async function countSevenAfterRestore(parts: KeyedScopeSnapshot[], backend: (clock: ManualClock) => KeyedStateBackend, version?: number): Promise<string[]> {
  const s = countStep(0, 1, backend, undefined, version);
  s.op.initializeStateParts(parts);
  await s.op.open();
  s.feed([7]);
  return s.out;
}

/** Restores `parts` at parallelism 3 and counts every key once more in each subtask: the keys whose count went on (they were restored where they belong). */
async function restoredAtThree(parts: KeyedScopeSnapshot[], backend: (clock: ManualClock) => KeyedStateBackend): Promise<number[]> {
  const seen: string[] = [];
  for (const index of [0, 1, 2]) {
    const s = countStep(index, 3, backend, undefined);
    s.op.initializeStateParts(parts);
    await s.op.open();
    s.feed(allKeys); // a key this subtask does not own counts from 1: it was not restored here
    seen.push(...s.out.filter((l) => l.endsWith(':2')));
  }
  return seen.map((l) => Number(l.split(':')[0])).sort((a, b) => a - b);
}

describe('restoring the handles of on-disk incremental checkpoints', () => {
  it('at another parallelism: each subtask takes its key groups from every old subtask’s chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-handle-rescale-'));
    const parts = await checkpointAtTwo(dir);
    expect(await restoredAtThree(parts, disk(dir))).toEqual(allKeys);
  });

  it('into the memory backend, and through a state migration, by way of a plain snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-handle-memory-'));
    const parts = await checkpointAtTwo(dir);
    expect(await countSevenAfterRestore(parts, memory)).toEqual(['7:2']);
    expect(await countSevenAfterRestore(parts, disk(dir), 2)).toEqual(['7:11']);
  });

  it('without a shared directory, a keyed step on the disk backend checkpoints a plain snapshot, synchronously', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-handle-plain-'));
    const s = countStep(0, 1, disk(dir), undefined);
    await s.op.open();
    s.feed([1, 2, 3]);
    const snap = s.op.snapshotState(1) as KeyedScopeSnapshot;
    expect(snap.handle).toBeUndefined();
    expect(Object.keys(snap.state.states)).toEqual(['count']);
  });
});

describe('restoring the handles of incremental memory checkpoints', () => {
  it('at another parallelism, into the disk backend, and through a state migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-mem-handle-rescale-'));
    const parts = await checkpointAtTwo(dir, incremental, 'memory-chain');
    expect(await restoredAtThree(parts, incremental)).toEqual(allKeys);
    expect(await countSevenAfterRestore(parts, disk(dir))).toEqual(['7:2']);
    expect(await countSevenAfterRestore(parts, incremental, 2)).toEqual(['7:11']);
  });

  it('in a task, the snapshot returns the handle at once and the acknowledgement waits for the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-mem-handle-ack-'));
    const waits: Array<Promise<unknown>> = [];
    const s = countStep(0, 1, incremental, join(dir, 'shared', 'count'), undefined, (w) => waits.push(w));
    await s.op.open();
    s.feed(allKeys);
    const snap = s.op.snapshotState(1) as KeyedScopeSnapshot; // not a promise
    expect(snap.handle?.format).toBe('memory-chain');
    expect(waits).toHaveLength(1);
    s.feed([1, 2]); // the step goes on while the file is written; the checkpoint holds what was copied at the barrier
    await Promise.all(waits);
    const r = countStep(0, 1, incremental, undefined);
    r.op.initializeState(snap);
    await r.op.open();
    r.feed([1, 3]);
    expect(r.out).toEqual(['1:2', '3:2']);
  });
});
