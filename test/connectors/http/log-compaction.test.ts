/**
 * The durable log drops records only once a checkpoint that covers them has completed,
 * never at a barrier nor when they are handed out. Before: the log was emptied as soon as
 * a stopped source had handed out its last record, so a final checkpoint that then failed
 * left a restart nothing to replay, and every record answered 202 since the last completed
 * checkpoint was lost (here: 0 of 500 committed).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCheckpointStorage } from '../../../src/checkpoint/file-storage.js';
import type { CheckpointData, CheckpointHandle } from '../../../src/checkpoint/types.js';
import { DurableLog } from '../../../src/connectors/http/durable-log.js';
import { Job, httpSource, transactionalFileSink } from '../../../src/index.js';
import { testSourceContext } from '../../../src/testing/index.js';
import { SystemClock } from '../../../src/time/clock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const fresh = (name: string): string => {
  const d = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  dirs.push(d);
  return d;
};

/** Checkpoint storage that refuses its first write (with no periodic checkpoint: the final one). */
class RefusesFirst extends FileCheckpointStorage {
  refused = 0;
  override async write(data: CheckpointData): Promise<CheckpointHandle> {
    if (this.refused === 0) {
      this.refused++;
      throw new Error('the storage refused the write');
    }
    return super.write(data);
  }
}

function committed(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => (JSON.parse(l) as { id: number }).id)
    .sort((a, b) => a - b);
}

describe('the HTTP durable log and checkpoints', () => {
  it('a drained source whose final checkpoint fails: the restart replays the log, and every record answered 202 is committed once', async () => {
    const dir = fresh('log-final');
    const ingest = httpSource<{ id: number }>({ port: 0, durableLog: join(dir, 'log') });
    const storage = new RefusesFirst(join(dir, 'checkpoints'));
    const job = new Job({
      name: 'log-final',
      delivery: 'exactly-once',
      checkpoints: { interval: '1h', storage },
      restart: { strategy: 'fixed-delay', attempts: 2, delay: 10 },
    });
    job.source(ingest, { uid: 'ingest' }).sinkTo(transactionalFileSink<{ id: number }>(join(dir, 'out')), { uid: 'out' });
    const running = job.start();
    try {
      const { url } = await ingest.address();
      for (let batch = 0; batch < 5; batch++) {
        const r = await fetch(url, {
          method: 'POST',
          body: JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: batch * 100 + i }))),
          headers: { 'content-type': 'application/json' },
        });
        expect(r.status).toBe(202);
      }
      expect(running.drain()).toBe(true);
      await expect(running.done).resolves.toEqual({ status: 'finished' });
      expect(storage.refused).toBe(1);
      expect(running.restarts).toBe(1);
      expect(committed(join(dir, 'out'))).toEqual(Array.from({ length: 500 }, (_, i) => i));
      // Committed by the final checkpoint: only then is the log emptied.
      const log = new DurableLog(join(dir, 'log'), { clock: new SystemClock() });
      await log.open();
      expect(await log.readFrom(0)).toEqual([]);
      await log.close();
    } finally {
      running.cancel();
      await running.done.catch(() => {});
    }
  }, 60_000);

  it('the reader keeps records through the barrier and drops them when that checkpoint completes, if the log holds nothing newer', async () => {
    const dir = fresh('log-reader');
    const source = httpSource<{ id: number }>({ port: 0, durableLog: dir });
    const reader = source.createReader(testSourceContext({ maxPollWaitMs: 5 }));
    try {
      await reader.open!();
      const { url } = await source.address();
      const post = (ids: number[]) => fetch(url, { method: 'POST', body: JSON.stringify(ids.map((id) => ({ id }))), headers: { 'content-type': 'application/json' } });
      expect((await post([1, 2, 3])).status).toBe(202);
      const first = await reader.poll();
      expect(first.values.map((v) => v.id)).toEqual([1, 2, 3]);
      const position = reader.snapshotPosition!(1) as { offset: number };
      expect(readdirSync(dir)).toEqual(['ingest.log']);
      expect(statSync(join(dir, 'ingest.log')).size).toBe(position.offset); // the barrier drops nothing

      expect((await post([4])).status).toBe(202); // newer than checkpoint 1
      await reader.notifyCheckpointComplete!(1);
      expect(statSync(join(dir, 'ingest.log')).size).toBeGreaterThan(position.offset); // kept: record 4 is not covered

      const second = await reader.poll();
      expect(second.values.map((v) => v.id)).toEqual([4]);
      const covered = reader.snapshotPosition!(2) as { offset: number };
      await reader.notifyCheckpointComplete!(2);
      // Everything is covered: a new, empty file from the same offset on.
      expect(readdirSync(dir)).toEqual([`ingest-${covered.offset}.log`]);
      expect(statSync(join(dir, `ingest-${covered.offset}.log`)).size).toBe(0);

      // Offsets go on growing: a position never names other records.
      expect((await post([5])).status).toBe(202);
      const third = await reader.poll();
      expect(third.values.map((v) => v.id)).toEqual([5]);
      expect((reader.snapshotPosition!(3) as { offset: number }).offset).toBeGreaterThan(covered.offset);
    } finally {
      await reader.close();
    }
  });

  it('reopened, the log is the file with the highest base (an older one left by a crash mid-compaction is removed), and replays after a position', async () => {
    const dir = fresh('log-reopen');
    writeFileSync(join(dir, 'ingest.log'), '{"id":1}\n{"id":2}\n');
    writeFileSync(join(dir, 'ingest-18.log'), '{"id":3}\n');
    const log = new DurableLog(dir, { clock: new SystemClock() });
    await log.open();
    try {
      expect(readdirSync(dir)).toEqual(['ingest-18.log']);
      expect(log.start).toBe(18);
      expect(log.length).toBe(27);
      expect(await log.readFrom(18)).toEqual([{ line: '{"id":3}', end: 27 }]);
      expect(await log.readFrom(0)).toEqual([{ line: '{"id":3}', end: 27 }]); // before the start: from the start
      expect(await log.append(['{"id":4}'])).toBe(36);
      expect(await log.compactThrough(27)).toBe(false); // record 4 is newer
      expect(await log.compactThrough(36)).toBe(true);
      expect(readdirSync(dir)).toEqual(['ingest-36.log']);
      expect(log.length).toBe(36);
    } finally {
      await log.close();
    }
  });
});
