import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { committedLines, recoveringJobOptions } from './helpers.js';
import { FileCheckpointStorage, Job, WatermarkStrategy, collectSink, count, generator, transactionalFileSink, tumbling, type DeadLetter, type WindowResult } from '../../src/index.js';

interface Click {
  user: number;
  at: number;
}

const EVENTS = 30_000;
const make = (i: number): Click => ({ user: (i * 7919) % 97, at: i * 3 });

/** One injected failure: at the record with this index or the first after it once `when()` holds. */
interface FailAt {
  readonly index: number;
  failed: boolean;
  readonly when?: () => boolean;
}

/**
 * Clicks per user per 1 s window, exactly once into part files; `failAt` makes one attempt
 * fail; `preAggregate` folds clicks into partials before the keyed exchange.
 */
function clicksJob(dir: string, failAt?: FailAt, o: { preAggregate?: boolean; ratePerSecond?: number } = {}): Job {
  const job = new Job(recoveringJobOptions('clicks', dir));
  job
    .source(generator({ make, count: EVENTS, ratePerSecond: o.ratePerSecond }), {
      uid: 'clicks',
      watermarks: WatermarkStrategy.forMonotonousTimestamps<Click>().withTimestampAssigner((c) => c.at),
    })
    .map((c) => {
      if (failAt && !failAt.failed && c.at >= failAt.index * 3 && (failAt.when?.() ?? true)) {
        failAt.failed = true;
        throw new Error('injected failure');
      }
      return c;
    })
    .keyBy('user')
    .window(tumbling('1s'))
    .aggregate(count(), { uid: 'per-user', preAggregate: o.preAggregate ?? false })
    .sinkTo(transactionalFileSink<WindowResult<number, number>>(join(dir, 'out')), { uid: 'out' });
  return job;
}

/**
 * Runs the clicks job once without failure and once failing after a checkpoint has
 * completed (paced reading leaves time for several), so the restart resumes from it.
 */
async function failOnceAfterCheckpoint(preAggregate: boolean) {
  const clean = mkdtempSync(join(tmpdir(), 'sluice-clean-'));
  await clicksJob(clean).run();
  const expected = committedLines(clean);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fail-'));
  let checkpointedBeforeFailure = 0;
  const failAt: FailAt = { index: Math.floor(EVENTS * 0.6), failed: false, when: () => (checkpointedBeforeFailure = completed()) > 0 };
  let restarts = 0;
  const running = clicksJob(dir, failAt, { preAggregate, ratePerSecond: 100_000 }).start({ onRestart: () => restarts++ });
  const completed = () => running.checkpoints.filter((c) => c.status === 'completed').length;
  await running.done;
  return { dir, expected, failed: failAt.failed, restarts, checkpointedBeforeFailure, committed: committedLines(dir) };
}

describe('recovery from checkpoints', () => {
  it('a failure restarts the job from its latest checkpoint, and the output is exactly that of an uninterrupted run', async () => {
    const run = await failOnceAfterCheckpoint(false);
    expect(run.expected.length).toBeGreaterThan(100);
    expect(run.failed).toBe(true);
    expect(run.restarts).toBe(1);
    // The restart resumed from a checkpoint (and parts would be committed twice over otherwise).
    expect(run.checkpointedBeforeFailure).toBeGreaterThan(0);
    expect(run.committed).toEqual(run.expected);
    // A finished job leaves no checkpoint behind: the next run starts afresh.
    expect(await new FileCheckpointStorage(join(run.dir, 'checkpoints')).list()).toEqual([]);
  }, 60_000);

  it('with pre-aggregation (partials held across checkpoints sent before each barrier), a failure loses and repeats nothing', async () => {
    const run = await failOnceAfterCheckpoint(true);
    expect(run.failed).toBe(true);
    expect(run.checkpointedBeforeFailure).toBeGreaterThan(0);
    expect(run.committed).toEqual(run.expected);
  }, 60_000);

  it('gives up with a clear error when the restart policy is exhausted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-give-up-'));
    const job = new Job({ name: 'always-fails', checkpoints: { interval: '10ms', dir }, restart: { strategy: 'fixed-delay', attempts: 2, delay: 0 } });
    job
      .source(generator({ make: (i) => i, count: 1000 }), { uid: 'n' })
      .map((n) => {
        if (n === 500) throw new Error('bad five hundred');
        return n;
      })
      .sinkTo(transactionalFileSink(join(dir, 'out')), { uid: 'out' });
    await expect(job.run()).rejects.toThrow(/JOB_RESTARTS_EXHAUSTED.*after 2 restart\(s\).*bad five hundred/s);
  }, 30_000);

  it('refuses exactly-once when a sink cannot keep it, or without checkpoints', () => {
    const noCheckpoints = new Job({ delivery: 'exactly-once' });
    noCheckpoints.source(generator({ make: (i) => i, count: 1 }), { uid: 'n' }).print();
    expect(() => noCheckpoints.explain()).toThrow(/DELIVERY_UNSUPPORTED.*no checkpoints/);
    const consoleSink = new Job({ delivery: 'exactly-once', checkpoints: { interval: '1s' } });
    consoleSink.source(generator({ make: (i) => i, count: 1 }), { uid: 'n' }).print();
    expect(() => consoleSink.explain()).toThrow(/DELIVERY_UNSUPPORTED.*cannot deliver exactly once/);
  });
});

describe('dead letters with checkpoints', () => {
  it('a bounded job that dead-letters and checkpoints finishes, with every failed record in the dead letters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-dl-'));
    const job = new Job({ name: 'dl', onError: 'dead-letter', checkpoints: { interval: '10ms', dir }, batchSize: 64 });
    const good = collectSink<number>();
    const dead = collectSink<DeadLetter>();
    job
      .source(generator({ make: (i) => i, count: 5000 }), { uid: 'n' })
      .map((n) => {
        if (n % 100 === 7) throw new Error(`bad ${n}`);
        return n;
      }, { uid: 'picky' })
      .sinkTo(good);
    job.deadLetters().sinkTo(dead);
    expect(await job.run()).toEqual({ status: 'finished' });
    expect(good.values.length).toBe(4950);
    expect(dead.values.map((d) => d.record).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 50 }, (_, k) => k * 100 + 7));
  }, 30_000);
});
