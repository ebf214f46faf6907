/**
 * The on-disk state backend on a full disk, for real: a small tmpfs mounted for the test
 * (the tests run as root on the development machines; elsewhere the test is skipped with
 * a message). LMDB reports a write the disk cut short as EIO ("short write, filesystem
 * full?" in mdb.c); the backend tells it apart by the free space left and fails with
 * STORAGE_FULL, as checkpoint storage does. A job rides it out: the attempt restarts from
 * its last checkpoint after growing pauses (not a storm, not counted against the restart
 * policy), health says degraded meanwhile, and once there is room the output is exact.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_RETRY_MS } from '../../../src/checkpoint/coordinator.js';
import { DiskStateBackend, Job, SluiceError, generator, transactionalFileSink, valueState, type ValueState } from '../../../src/index.js';
import { SystemClock } from '../../../src/time/clock.js';
import { committedLines } from '../../checkpoint/helpers.js';
import { promValue } from '../../fixtures/prom.js';
import { fillUp, mountTmpfs } from '../../connectors/http/helpers.js';

const tmpfs = mountTmpfs(8 * 1024 * 1024);
const mounted = 'dir' in tmpfs;
if (!mounted) console.warn(`state/disk/storage-full.test.ts: skipped, ${tmpfs.skip}`);
const scratch = mkdtempSync(join(tmpdir(), 'sluice-state-full-'));

afterAll(() => {
  // Backends of failed attempts may still hold their LMDB file open: detach lazily.
  if (mounted) execFileSync('umount', ['-l', tmpfs.dir]);
  if (mounted) rmSync(tmpfs.dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!mounted)('on-disk state on a full disk (a real tmpfs)', () => {
  const disk = mounted ? tmpfs.dir : '';

  it('a write that finds no room fails with STORAGE_FULL naming the store, and the backend refuses every later use (its cache may have lost entries)', async () => {
    const path = mkdtempSync(join(disk, 'unit-'));
    const backend = new DiskStateBackend({ clock: new SystemClock(), path, cacheSize: 16 });
    const v = backend.getState(valueState<string>('v'));
    const filler = fillUp(disk);
    try {
      let error: unknown;
      try {
        for (let i = 0; i < 1_000_000; i++) {
          backend.setCurrentKey(`k${i}`);
          v.update('x'.repeat(200));
        }
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('STORAGE_FULL');
      expect((error as SluiceError).message).toMatch(/a write to the state store at .*state\.mdb found no space left on its disk/);
      // Entries evicted in the failed write are gone from the cache: a reader that went on
      // would see old values. Every use now throws the same error instead.
      backend.setCurrentKey('k0');
      expect(() => v.value()).toThrow(/STORAGE_FULL/);
      expect(() => v.update('y')).toThrow(/STORAGE_FULL/);
      await backend.close(); // releases the file even so
    } finally {
      rmSync(filler);
      rmSync(path, { recursive: true, force: true });
    }
  });

  it('a job rides it out: STORAGE_FULL, restarts after growing pauses (not counted), degraded health, and exact output once there is room', async () => {
    const states = join(disk, 'states');
    mkdirSync(states);
    const out = mkdtempSync(join(scratch, 'out-'));
    const N = 20_000;
    const KEYS = 2_000;
    let counter!: ValueState<number>;
    const job = new Job({
      name: 'state-full',
      delivery: 'exactly-once',
      checkpoints: { interval: '100ms', dir: join(scratch, 'checkpoints') },
      // Before: three restarts 10 ms apart, then JOB_RESTARTS_EXHAUSTED (STATE_IO_FAILED) within a second.
      restart: { strategy: 'fixed-delay', attempts: 3, delay: 10 },
      server: { port: 0 },
      batchSize: 64,
      stateBackend: ({ clock, maxParallelism }) => new DiskStateBackend({ clock, maxParallelism, path: mkdtempSync(join(states, 'b-')), cacheSize: 64 }),
    });
    job
      .source(generator({ make: (i) => ({ key: i % KEYS, pad: 'x'.repeat(100) }), count: N, ratePerSecond: 10_000 }), { uid: 'events' })
      .keyBy('key')
      .process<string>(
        {
          open(ctx) {
            counter = ctx.state(valueState<number>('count', { defaultValue: 0 }));
          },
          processElement(e, _ctx, collect) {
            const n = counter.value()! + 1;
            counter.update(n);
            collect.collect(`${e.key},${n}`);
          },
        },
        { uid: 'count' },
      )
      .sinkTo(transactionalFileSink<string>(join(out, 'out')), { uid: 'out' });
    const filler = fillUp(disk);
    const running = job.start();
    let ended = false;
    void running.done.then(
      () => (ended = true),
      () => (ended = true),
    );
    try {
      await new Promise((r) => setTimeout(r, 3_000));
      expect(ended).toBe(false);
      const failures = running.monitor.exceptions.filter((e) => e.kind === 'restart');
      expect(failures.length).toBeGreaterThanOrEqual(2);
      // 250 ms, 500 ms, 1 s…: a few attempts in 3 s, not one every 10 ms.
      expect(failures.length).toBeLessThanOrEqual(5);
      for (const f of failures) {
        expect(f.code).toBe('STORAGE_FULL');
        expect(f.message).toMatch(/found no space left/);
      }
      const times = failures.map((f) => f.time);
      times.slice(1).forEach((t, i) => expect(t - times[i]!, `restarts at ${times.join(', ')}`).toBeGreaterThanOrEqual(STORAGE_RETRY_MS * 2 ** i - 5));
      expect(running.restarts).toBe(0); // the disk, not the job: the policy's three restarts are left
      const metrics = await running.monitor.registry.metrics();
      expect(promValue(metrics, 'sluice_storage_full_restarts_total', { job: 'state-full' })).toBe(failures.length);
      const { url } = (await running.server)!;
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'degraded', reason: expect.stringContaining('STORAGE_FULL') });
      expect((await fetch(`${url}/readyz`)).status).toBe(503);

      rmSync(filler);
      await expect(running.done).resolves.toEqual({ status: 'finished' });
      const expected: string[] = [];
      for (let i = 0; i < N; i++) expected.push(JSON.stringify(`${i % KEYS},${Math.floor(i / KEYS) + 1}`));
      expect(committedLines(out)).toEqual(expected.sort());
      expect(readdirSync(states).length).toBeGreaterThan(1);
    } finally {
      running.cancel();
      await running.done.catch(() => {});
    }
  }, 60_000);
});
