import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataStream, Job, generator, transactionalFileSink } from '../../../src/index.js';
import type { Batch } from '../../../src/runtime/batch.js';
import { Operator } from '../../../src/runtime/operator.js';
import { committedLines } from '../../checkpoint/helpers.js';

const EVENTS = 3_000;

/** Passes records on; its snapshot takes a few milliseconds (a state backend writing), during which timers and I/O run. */
class SlowSnapshot<T> extends Operator<T, T> {
  processBatch(batch: Batch<T>): void {
    this.out.main.emitBatch(batch);
  }
  override async snapshotState(): Promise<unknown> {
    await new Promise((resolve) => setTimeout(resolve, 3));
    return { slow: true };
  }
}

describe('async results never fall between a snapshot and its barrier', () => {
  it('results that come back while a later step of the chain snapshots wait for the barrier (else a restore would send them twice)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-async-barrier-'));
    const failure = { failed: false };
    let completed = () => 0;
    const job = new Job({
      name: 'async-barrier',
      batchSize: 32,
      checkpoints: { interval: '10ms', dir: join(dir, 'checkpoints') },
      delivery: 'exactly-once',
      restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
    });
    const enriched = job
      .source(generator({ make: (i) => i, count: EVENTS, ratePerSecond: 15_000 }), { uid: 'numbers' })
      .asyncMap((i: number) => new Promise<number>((resolve) => setTimeout(() => resolve(i * 2), i % 3)), { uid: 'enrich', mode: 'unordered', capacity: 30 });
    // In the same chain as the async step, after it: its snapshot awaits, then the barrier goes into the channel.
    const slow = new DataStream<number>(job, job.addStep({ kind: 'slow-snapshot', options: { uid: 'slow' }, stateful: true, inputs: [enriched.edge()], description: '', createOperator: () => new SlowSnapshot<number>() }));
    slow
      .rebalance()
      .map((n) => {
        if (!failure.failed && n > EVENTS && completed() >= 2) {
          failure.failed = true;
          throw new Error('injected failure');
        }
        return n;
      })
      .sinkTo(transactionalFileSink<number>(join(dir, 'out')), { uid: 'out' });
    const running = job.start();
    completed = () => running.checkpoints.filter((c) => c.status === 'completed').length;
    await running.done;
    expect(failure.failed).toBe(true);
    const expected = Array.from({ length: EVENTS }, (_, i) => String(i * 2)).sort();
    expect(committedLines(dir)).toEqual(expected);
  }, 60_000);
});
