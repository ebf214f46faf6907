/**
 * A job whose final checkpoint cannot be written must not end as finished: the output
 * since its last checkpoint is not committed. It restarts from the latest checkpoint
 * (which it keeps) and commits that output then; when it cannot, it fails, and the next
 * start commits it. (Before: "finished", exit 0, checkpoints deleted, about a tenth of the
 * output left in a hidden pending file.)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCheckpointStorage } from '../../src/checkpoint/file-storage.js';
import type { CheckpointData, CheckpointHandle } from '../../src/checkpoint/types.js';
import { generator } from '../../src/connectors/generator/index.js';
import { transactionalFileSink } from '../../src/connectors/file/index.js';
import { SluiceError } from '../../src/errors/index.js';
import { Job } from '../../src/launch/job.js';

const N = 3_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Checkpoint storage that fails the final checkpoint `times` times: with a full disk
 * (ENOSPC, retried up to the checkpoint timeout), or with another error (not retried).
 */
class FailingFinal extends FileCheckpointStorage {
  failures = 0;
  constructor(dir: string, private times: number, private readonly error: () => Error) {
    super(dir);
  }
  override async write(data: CheckpointData): Promise<CheckpointHandle> {
    // The final checkpoint is the one in which every source has finished.
    const final = JSON.stringify(data.steps).includes('"finished":true');
    if (final && this.times > 0) {
      this.times--;
      this.failures++;
      throw this.error();
    }
    return super.write(data);
  }
}

function committed(out: string): number[] {
  return readdirSync(out)
    .filter((f) => !f.startsWith('.'))
    .flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as number)
    .sort((a, b) => a - b);
}

function job(out: string, storage: FileCheckpointStorage, restarts: number, interval = 20): Job {
  const j = new Job({
    name: 'final-checkpoint',
    delivery: 'exactly-once',
    checkpoints: { interval, storage, timeout: 400 },
    restart: restarts === 0 ? { strategy: 'none' } : { strategy: 'fixed-delay', attempts: restarts, delay: 10 },
    batchSize: 64,
  });
  j.source(generator({ make: (i) => i, count: N, ratePerSecond: 20_000 }), { uid: 'numbers' }).sinkTo(transactionalFileSink<number>(out), { uid: 'out' });
  return j;
}

describe('a final checkpoint that cannot be written', () => {
  it('that the storage refuses (not an I/O error) fails the attempt: it restarts from the latest checkpoint and commits the rest, every record once', async () => {
    const cp = mkdtempSync(join(tmpdir(), 'sluice-final-cp-'));
    const out = mkdtempSync(join(tmpdir(), 'sluice-final-out-'));
    dirs.push(cp, out);
    const storage = new FailingFinal(cp, 1, () => new Error('the storage refused the write'));
    // No periodic checkpoint (a long interval): the one failing write is the final one.
    // (A periodic checkpoint taken after the source finished also holds its finished state.)
    const running = job(out, storage, 3, 60_000).start();
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    expect(storage.failures).toBe(1);
    expect(running.restarts).toBe(1);
    expect(committed(out)).toEqual(Array.from({ length: N }, (_, i) => i));
  }, 60_000);

  it('on a disk that stays full: retried up to the checkpoint timeout, then the job fails (never finished) with its checkpoints kept; the next start commits the rest', async () => {
    const cp = mkdtempSync(join(tmpdir(), 'sluice-final-cp-'));
    const out = mkdtempSync(join(tmpdir(), 'sluice-final-out-'));
    dirs.push(cp, out);
    const full = new FailingFinal(cp, Infinity, () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    const error = await job(out, full, 0).run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('STORAGE_FULL');
    expect(full.failures).toBeGreaterThan(1);
    expect((error as SluiceError).message).toMatch(/final checkpoint \d+ could not be written/);
    expect((await full.list()).length).toBeGreaterThan(0);
    expect(committed(out).length).toBeLessThan(N);

    // The disk has room again: the next start resumes from the kept checkpoint and commits the rest.
    await expect(job(out, new FileCheckpointStorage(cp), 0).run()).resolves.toEqual({ status: 'finished' });
    expect(committed(out)).toEqual(Array.from({ length: N }, (_, i) => i));
  }, 60_000);
});
