import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { committedLines } from './helpers.js';
import type { KeyedScopeSnapshot } from '../../src/runtime/operators/keyed-scope.js';
import { DiskStateBackend, FileCheckpointStorage, IncrementalMemoryStateBackend, type KeyedStateBackend, type Clock, Job, generator, transactionalFileSink, type CheckpointData, type CheckpointHandle } from '../../src/index.js';
import { runningCount } from '../fixtures/running-count.js';

const EVENTS = 8_000;
/** The first 200 records write 200 keys; after them only 5 keys change, so deltas stay small. */
const keyOf = (i: number): number => (i < 200 ? i : i % 5);

/** Checkpoint storage that keeps what it was asked to write, and checks that every shared directory a checkpoint lists is there. */
class RecordingStorage extends FileCheckpointStorage {
  readonly written: CheckpointData[] = [];
  readonly missing: string[] = [];
  override async write(data: CheckpointData): Promise<CheckpointHandle> {
    this.written.push(data);
    for (const part of Object.values(data.steps).flatMap((s) => s.parts ?? [s.state])) {
      for (const d of (part as KeyedScopeSnapshot | undefined)?.sharedDirs ?? []) if (!existsSync(d)) this.missing.push(d);
    }
    return super.write(data);
  }
}

type Backend = (dir: string, step: { clock: Clock; maxParallelism: number }) => KeyedStateBackend;

/** The backends whose incremental checkpoints go into job checkpoints: the disk one gets a fresh directory per backend, as after a restart. */
const backends: Array<[string, Backend]> = [
  ['the on-disk backend', (dir, { clock, maxParallelism }) => new DiskStateBackend({ clock, maxParallelism, path: mkdtempSync(join(dir, 'state-')), cacheSize: 64 })],
  ['the incremental memory backend', (_dir, { clock, maxParallelism }) => new IncrementalMemoryStateBackend({ clock, maxParallelism })],
];

describe.each(backends)('incremental checkpoints of %s in job checkpoints', (_name, backend) => {
/** A keyed running count, exactly once into part files. */
function countJob(dir: string, storage: FileCheckpointStorage, failAt?: { index: number; failed: boolean }): Job {
  const job = new Job({
    name: 'disk-counts',
    batchSize: 64,
    checkpoints: { interval: '100ms', storage, retain: 2 },
    delivery: 'exactly-once',
    restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
    stateBackend: (step) => backend(dir, step),
  });
  job
    .source(generator({ make: (i) => ({ i, key: keyOf(i) }), count: EVENTS, ratePerSecond: 10_000 }), { uid: 'events' })
    .map((e) => {
      if (failAt && !failAt.failed && e.i === failAt.index) {
        failAt.failed = true;
        throw new Error('injected failure');
      }
      return e;
    })
    .keyBy((e) => e.key)
    .process<string>(runningCount(), { uid: 'count' })
    .sinkTo(transactionalFileSink<string>(join(dir, 'out')), { uid: 'out' });
  return job;
}

const handleOf = (data: CheckpointData): KeyedScopeSnapshot => data.steps['count']!.state as KeyedScopeSnapshot;

  it('after a failure the output equals an uninterrupted run; checkpoints hold handles, the second one incremental and smaller', async () => {
    const clean = mkdtempSync(join(tmpdir(), 'sluice-disk-clean-'));
    await countJob(clean, new FileCheckpointStorage(join(clean, 'checkpoints'))).run();
    const expected = committedLines(clean);
    expect(expected.length).toBe(EVENTS);

    const dir = mkdtempSync(join(tmpdir(), 'sluice-disk-fail-'));
    const storage = new RecordingStorage(join(dir, 'checkpoints'));
    const failAt = { index: Math.floor(EVENTS * 0.6), failed: false };
    let restarts = 0;
    const running = countJob(dir, storage, failAt).start({ onRestart: () => restarts++ });
    await running.done;
    expect(failAt.failed).toBe(true);
    expect(restarts).toBe(1);
    // The restart loaded a checkpoint (its state only in the handle's files), not a fresh start.
    expect(running.restoredFrom).toBeGreaterThanOrEqual(2);
    expect(committedLines(dir)).toEqual(expected);

    // The step's state in a checkpoint is the handle of files under <checkpoints>/shared/count/, not the entries.
    const [first, second] = storage.written.map(handleOf);
    expect(first!.state.states).toEqual({});
    expect(first!.handle!.incremental).toBe(false);
    expect(first!.handle!.chain[0]).toContain(join(dir, 'checkpoints', 'shared', 'count'));
    expect(second!.handle!.incremental).toBe(true);
    expect(second!.handle!.chain).toHaveLength(2);
    expect(second!.handle!.bytes).toBeLessThan(first!.handle!.bytes / 4);
    // Retention never deleted a directory a later checkpoint still listed; a finished job leaves none behind.
    expect(storage.missing).toEqual([]);
    expect(storage.written.length).toBeGreaterThan(3);
    expect(readdirSync(join(dir, 'checkpoints', 'shared', 'count'))).toEqual([]);
  }, 60_000);

  it('a savepoint holds the entries themselves, and a job restores from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-disk-savepoint-'));
    const storage = new RecordingStorage(join(dir, 'checkpoints'));
    const running = countJob(dir, storage).start();
    while (storage.written.length < 2) await new Promise((r) => setTimeout(r, 20));
    const path = join(dir, 'savepoint');
    await running.savepoint(path);
    await running.cancel();
    const saved = (await new FileCheckpointStorage(path).readPath(path)).steps['count']!.state as KeyedScopeSnapshot;
    expect(saved.handle).toBeUndefined();
    expect(saved.sharedDirs).toBeUndefined();
    const counts = saved.state.states['count']!;
    expect(counts.kind).toBe('value');
    expect('count' in counts ? counts.count : 0).toBe(200);

    // From the savepoint, the counts go on where they were: each of keys 0-4 ends at its count over the whole stream.
    const again = mkdtempSync(join(tmpdir(), 'sluice-disk-from-savepoint-'));
    await countJob(again, new FileCheckpointStorage(join(again, 'checkpoints'))).run({ fromSavepoint: path });
    const last = new Map<number, number>();
    for (const line of committedLines(again)) {
      const [k, n] = (JSON.parse(line) as string).split(':').map(Number);
      last.set(k!, Math.max(last.get(k!) ?? 0, n!));
    }
    const total = (k: number) => Array.from({ length: EVENTS }, (_, i) => keyOf(i)).filter((x) => x === k).length;
    expect([...last.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const k of [0, 1, 2, 3, 4]) expect(last.get(k)).toBe(total(k));
  }, 60_000);
});
