/**
 * A graceful stop of an exactly-once job whose sources cannot all stop: HTTP ingest (with
 * a durable log, so it replays and exactly-once is allowed) beside an endless generator
 * (Kafka in practice). `stop()` stops ingest (503); once it has handed out what it accepted,
 * a checkpoint covers it, every sink commits it (the ingest's sink, whose task has
 * finished, its last transaction too), and the job ends as cancelled with its checkpoints
 * kept. Before: `stop()` did not exist, `sluice run` cancelled at once, and the records
 * answered 202 since the last checkpoint were not committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Job, generator, httpSource, transactionalFileSink } from '../../src/index.js';
import { committedPartLines } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The records committed in `partsDir`, parsed. */
const committedRecords = (partsDir: string): unknown[] => committedPartLines(partsDir).map((l) => JSON.parse(l) as unknown);

describe('stop() of a job with HTTP ingest and a source that cannot stop', () => {
  it('commits every record answered 202 and the other source up to the same checkpoint, exactly once, then ends as cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-stop-'));
    dirs.push(dir);
    const ingest = httpSource<{ id: number }>({ port: 0, durableLog: join(dir, 'log') });
    const job = new Job({ name: 'stop-mixed', checkpoints: { interval: '10s', dir: join(dir, 'checkpoints') }, delivery: 'exactly-once' });
    job.source(ingest, { uid: 'ingest' }).sinkTo(transactionalFileSink<{ id: number }>(join(dir, 'http')), { uid: 'http-out' });
    job.source(generator({ make: (i) => i, ratePerSecond: 2_000 }), { uid: 'ticks' }).sinkTo(transactionalFileSink<number>(join(dir, 'ticks')), { uid: 'ticks-out' });
    const running = job.start();
    try {
      const { url } = await ingest.address();
      for (let batch = 0; batch < 10; batch++) {
        const r = await fetch(url, {
          method: 'POST',
          body: JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: batch * 100 + i }))),
          headers: { 'content-type': 'application/json' },
        });
        expect(r.status).toBe(202);
      }
      // No periodic checkpoint has run (10 s interval): nothing is committed yet.
      expect(committedRecords(join(dir, 'http'))).toEqual([]);
      await running.stop();
      expect((await fetch(url, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } }).catch(() => undefined))?.status ?? 503).toBe(503);
      await expect(running.done).resolves.toEqual({ status: 'cancelled' });

      const ids = (committedRecords(join(dir, 'http')) as Array<{ id: number }>).map((r) => r.id).sort((a, b) => a - b);
      expect(ids).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
      const ticks = (committedRecords(join(dir, 'ticks')) as number[]).sort((a, b) => a - b);
      expect(ticks.length).toBeGreaterThan(0);
      expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => i)); // a prefix, each once
      expect(running.checkpoints.filter((c) => c.status === 'completed').length).toBeGreaterThanOrEqual(1);
    } finally {
      running.cancel();
      await running.done.catch(() => {});
    }
  }, 60_000);
});
