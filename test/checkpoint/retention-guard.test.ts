/**
 * Guard: checkpoint retention never deletes what a restore would need. At every moment of
 * a run that checkpoints often (on the disk backend, whose incremental files under
 * `shared/` retention prunes too), the checkpoint recovery resumes from (the newest
 * intact one) and the one it falls back to should that turn out damaged (the one before
 * it, with `retain: 2`) are never discarded, and both read back whole, every shared file
 * verified. A checkpoint whose manifest is damaged does not count among the retained: the
 * newest intact one before it stays. And a failure then restores from them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines } from './helpers.js';
import { DiskStateBackend, FileCheckpointStorage, Job, generator, transactionalFileSink, type CheckpointData, type CheckpointHandle } from '../../src/index.js';
import { runningCount } from '../fixtures/running-count.js';

const EVENTS = 6_000;
const KEYS = 300;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** File storage that checks, at every discard and after every prune, that what a restore needs is there. */
class GuardedStorage extends FileCheckpointStorage {
  readonly violations: string[] = [];
  discarded = 0;
  checked = 0;
  /** Damage the manifest of this checkpoint once it is written (it stays in place, unlisted). */
  damageAt: number | undefined;
  /** The ids listed (intact) right after the damage. */
  intactAfterDamage: number[] | undefined;

  /** What a restore needs now: the newest intact checkpoint and the one before it (its fallback). */
  private async needed(): Promise<CheckpointHandle[]> {
    return (await this.list()).filter((h) => h.kind === 'checkpoint').slice(0, 2);
  }

  override async write(data: CheckpointData): Promise<CheckpointHandle> {
    const handle = await super.write(data);
    if (data.checkpointId === this.damageAt && this.intactAfterDamage === undefined) {
      writeFileSync(join(handle.path, '_manifest.json'), '{"truncated":');
      this.intactAfterDamage = (await this.list()).map((h) => h.checkpointId);
    }
    return handle;
  }

  /** The job finished: recovery clears every checkpoint (nothing is left to resume), after setting the record to 0. */
  private finished = false;
  override async markCompleted(id: number, path?: string): Promise<void> {
    if (id === 0) this.finished = true;
    return super.markCompleted(id, path);
  }

  override async discard(handle: CheckpointHandle): Promise<void> {
    const needed = this.finished ? [] : await this.needed();
    if (needed.some((h) => h.checkpointId === handle.checkpointId)) {
      this.violations.push(`discarded checkpoint ${handle.checkpointId} while a restore needed it (needed: ${needed.map((h) => h.checkpointId).join(', ')})`);
    }
    this.discarded++;
    return super.discard(handle);
  }

  override async pruneShared(upToId: number): Promise<void> {
    await super.pruneShared(upToId);
    if (this.finished) return;
    for (const h of await this.needed()) {
      this.checked++;
      await this.readPath(h.path).catch((e: unknown) => this.violations.push(`after pruning up to ${upToId}, checkpoint ${h.checkpointId} does not read: ${(e as Error).message.split('\n')[0]}`));
    }
  }
}

/** A keyed running count on the disk backend, into part files; fails once at `failAt` (when given). */
function countJob(dir: string, storage: GuardedStorage, delivery: 'exactly-once' | 'at-least-once', failAt?: { index: number; when: () => boolean; failed: boolean }, logs?: string[]): Job {
  const job = new Job({
    name: 'retention-guard',
    ...(logs ? { log: { level: 'warn' as const, destination: { write: (line: string) => void logs.push(line) } } } : {}),
    batchSize: 32,
    checkpoints: { interval: '20ms', storage, retain: 2 },
    delivery,
    restart: { strategy: 'fixed-delay', attempts: 2, delay: 0 },
    stateBackend: ({ clock, maxParallelism }) => new DiskStateBackend({ clock, maxParallelism, path: mkdtempSync(join(dir, 'state-')), cacheSize: 32, fullEvery: 4 }),
  });
  job
    .source(generator({ make: (i) => ({ i, key: i % KEYS }), count: EVENTS, ratePerSecond: 2_000 }), { uid: 'events' })
    .map((e) => {
      if (failAt && !failAt.failed && e.i >= failAt.index && failAt.when()) {
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

const expected = (): string[] => Array.from({ length: EVENTS }, (_, i) => JSON.stringify(`${i % KEYS}:${Math.floor(i / KEYS) + 1}`)).sort();

describe('checkpoint retention (guard)', () => {
  it('never discards the newest intact checkpoint or its fallback, which read back whole after every prune; a failure restores exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-retention-'));
    dirs.push(dir);
    const storage = new GuardedStorage(join(dir, 'checkpoints'));
    // Fails at the first record after retention has discarded 5 checkpoints (under load a
    // checkpoint can take 300 ms: the run of 3 s leaves room for that).
    const failAt = { index: 0, when: () => storage.discarded >= 5, failed: false };
    const running = countJob(dir, storage, 'exactly-once', failAt).start();
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    expect(failAt.failed).toBe(true);
    expect(running.restarts).toBe(1);
    expect(storage.discarded).toBeGreaterThanOrEqual(5); // retention did run, many times
    expect(storage.checked).toBeGreaterThanOrEqual(10);
    expect(storage.violations.join('\n')).toBe('');
    expect(committedLines(dir)).toEqual(expected());
  }, 60_000);

  it('a checkpoint whose manifest is damaged is not one of the retained: the newest intact one before it stays, and a failure falls back to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-retention-damaged-'));
    dirs.push(dir);
    const storage = new GuardedStorage(join(dir, 'checkpoints'));
    storage.damageAt = 4;
    // Fails at the next record after the damage, long before checkpoint 5 (20 ms later at the earliest): recovery falls back past 4.
    const failAt = { index: 0, when: () => storage.intactAfterDamage !== undefined, failed: false };
    const logs: string[] = [];
    const running = countJob(dir, storage, 'at-least-once', failAt, logs).start();
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    expect(storage.intactAfterDamage!.slice(0, 2)).toEqual([3, 2]); // checkpoint 4 is not listed: 3 and 2 are what a restore needs
    expect(storage.violations.join('\n')).toBe('');
    expect(running.restarts).toBe(1);
    const fallback = logs.map((l) => JSON.parse(l) as { event?: string; checkpointId?: number }).find((l) => l.event === 'checkpoint_fallback');
    expect(fallback).toMatchObject({ checkpointId: 3 });
    // At-least-once: every count is there (falling back may repeat some, never lose one).
    expect([...new Set(committedLines(dir))].sort()).toEqual(expected());
  }, 60_000);
});
