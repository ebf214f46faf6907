/**
 * A full checkpoint disk, for real: a small tmpfs mounted for the test (the tests run as
 * root on the development machines; elsewhere the test is skipped with a message), filled
 * up while a job checkpoints onto it. Checkpoints fail with STORAGE_FULL, are retried
 * with growing pauses (the coordinator's backoff, `src/checkpoint/coordinator.ts`), are
 * counted by `sluice_checkpoint_storage_failures_total`, and resume once space is freed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { fillUp } from '../connectors/http/helpers.js';
import { promValue } from '../fixtures/prom.js';
import { STORAGE_RETRY_MS } from '../../src/checkpoint/coordinator.js';
import { Job, generator, transactionalFileSink, valueState, type ValueState } from '../../src/index.js';
import { committedLines } from './helpers.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'sluice-full-disk-'));
let mounted = false;
let whyNot = '';
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch (e) {
  whyNot = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
  console.warn(`storage-full.test.ts: skipped, a tmpfs could not be mounted at ${mountPoint} (${whyNot}); it needs root`);
}

afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)('checkpoint storage full (a real tmpfs)', () => {
  // Each test fills the disk alone: an earlier test's job may still be deleting its old
  // checkpoints (retention runs after a checkpoint completes, unawaited by cancel), and
  // the space it frees would let a checkpoint complete on the "full" disk.
  beforeEach(() => {
    for (const name of readdirSync(mountPoint)) rmSync(join(mountPoint, name), { recursive: true, force: true });
  });

  it('fails with STORAGE_FULL, backs off (a few attempts in seconds, not hundreds), counts the failures, and checkpoints again once space is freed', async () => {
    const dir = join(mountPoint, 'checkpoints');
    mkdirSync(dir);
    const filler = fillUp(mountPoint);
    const logs: string[] = [];
    let seen!: ValueState<number>;
    const job = new Job({
      name: 'full-disk',
      checkpoints: { interval: '50ms', dir },
      log: { level: 'warn', destination: { write: (line) => logs.push(line) } },
      server: { port: 0 },
    });
    job
      .source(generator({ make: (i) => ({ key: i % 500 }), count: 10_000_000, ratePerSecond: 20_000 }), { uid: 'events' })
      .keyBy('key')
      .process<number>(
        {
          open(ctx) {
            seen = ctx.state(valueState<number>('seen', { defaultValue: 0 }));
          },
          processElement(_e, _ctx, out) {
            seen.update(seen.value()! + 1);
            out.collect(seen.value()!);
          },
        },
        { uid: 'count' },
      )
      .sinkTo({ kind: 'discard', describe: () => 'nothing', createWriter: () => ({ write: () => {}, close: async () => {} }) });
    const running = job.start();
    try {
      await new Promise((r) => setTimeout(r, 3_000));
      const failed = running.checkpoints.filter((c) => c.status === 'failed');
      // Before the backoff, a full disk meant an attempt every ~9 ms: hundreds in 3 s.
      expect(failed.length).toBeGreaterThanOrEqual(2);
      expect(failed.length).toBeLessThanOrEqual(6);
      expect(running.checkpoints.filter((c) => c.status === 'completed')).toEqual([]);
      for (const c of failed) {
        expect(c.storageFailure).toBe('STORAGE_FULL');
        expect(c.failure).toMatch(/\[STORAGE_FULL\] checkpoint \d+ found no space left in .* \(ENOSPC\)/);
      }
      // The pause from the end of one failed attempt to the start of the next: 250 ms, then doubling (never shorter; later under load).
      const pauses = failed.slice(1).map((c, i) => c.triggeredAt - (failed[i]!.triggeredAt + failed[i]!.durationMs));
      pauses.forEach((pause, i) => expect(pause, `pauses ${pauses.join(', ')} ms`).toBeGreaterThanOrEqual(STORAGE_RETRY_MS * 2 ** i - 5));
      // One WARN line per attempt, no storm of them.
      expect(logs.filter((l) => l.includes('"event":"checkpoint_failed"')).length).toBe(failed.length);
      // Counted by the metric; a failed write leaves nothing behind that takes space.
      const metrics = await running.monitor.registry.metrics();
      expect(promValue(metrics, 'sluice_checkpoint_storage_failures_total', { job: 'full-disk', code: 'STORAGE_FULL' })).toBe(failed.length);
      expect(readdirSync(dir).filter((n) => n.startsWith('chk-'))).toEqual([]);
      // Health says degraded: alive (a restart would not free the disk), not ready.
      const { url } = (await running.server)!;
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'degraded', reason: expect.stringContaining('STORAGE_FULL') });
      const readiness = await fetch(`${url}/readyz`);
      expect(readiness.status).toBe(503);
      expect(await readiness.json()).toMatchObject({ ready: false, status: 'degraded' });

      // Space comes back: the next attempt (after the pause reached) completes.
      rmSync(filler);
      const deadline = Date.now() + 20_000;
      while (!running.checkpoints.some((c) => c.status === 'completed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(running.checkpoints.some((c) => c.status === 'completed')).toBe(true);
      expect(existsSync(join(dir, '_completed.json'))).toBe(true);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      running.cancel();
      await running.done.catch(() => {});
    }
  }, 60_000);

  it('a bounded job whose final checkpoint finds the disk full waits for space (its output is committed by that checkpoint), rather than ending as finished with the output lost', async () => {
    const dir = join(mountPoint, 'checkpoints-final');
    mkdirSync(dir);
    const out = mkdtempSync(join(tmpdir(), 'sluice-full-disk-out-'));
    const filler = fillUp(mountPoint);
    const job = new Job({ name: 'full-disk-final', checkpoints: { interval: '50ms', dir }, delivery: 'exactly-once', batchSize: 100 });
    job.source(generator({ make: (i) => i, count: 3_000, ratePerSecond: 10_000 }), { uid: 'numbers' }).sinkTo(transactionalFileSink<number>(join(out, 'out')), { uid: 'out' });
    const running = job.start();
    let ended = false;
    void running.done.finally(() => (ended = true));
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      expect(ended).toBe(false);
      expect(committedLines(out)).toEqual([]);
      expect(running.checkpoints.filter((c) => c.status === 'failed').every((c) => c.storageFailure === 'STORAGE_FULL')).toBe(true);
      rmSync(filler);
      expect(await running.done).toEqual({ status: 'finished' });
      expect(committedLines(out)).toEqual(Array.from({ length: 3_000 }, (_, i) => String(i)).sort());
      // Finished: no checkpoint is left to resume from.
      expect(readdirSync(dir)).toEqual(['_completed.json']);
    } finally {
      running.cancel();
    }
  }, 60_000);
});
