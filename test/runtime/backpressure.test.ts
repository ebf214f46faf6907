import { describe, expect, it } from 'vitest';
import { Job } from '../../src/launch/job.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { generator } from '../../src/connectors/generator/index.js';
import { slowSink } from '../helpers.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `build` with an unbounded generator feeding a slow sink, samples
 * (produced - received) while it runs, then cancels. Returns the largest gap seen.
 */
async function maxInFlight(opts: { batchSize: number; channelCapacity: number; forceChannel: boolean }) {
  let produced = 0;
  const { sink, received } = slowSink<{ k: number; v: number }>(2);
  const job = new Job({ batchSize: opts.batchSize, channelCapacity: opts.channelCapacity });
  let s = job
    .source(generator({ make: (i) => ((produced = i + 1), i) }), { uid: 'gen' })
    .map((i) => ({ k: i % 7, v: i }));
  // a multi-input step heads a task of its own: the records cross a bounded channel
  if (opts.forceChannel) s = s.union(job.source(fromCollection<{ k: number; v: number }>([]), { uid: 'none' }));
  s.keyBy((r) => r.k)
    .process<{ k: number; v: number }>({ processElement: (r, _ctx, out) => out.collect(r) }, { uid: 'pass' })
    .sinkTo(sink);

  const running = job.start();
  let gap = 0;
  let maxQueued = 0;
  for (let i = 0; i < 60; i++) {
    await sleep(5);
    gap = Math.max(gap, produced - received());
    for (const c of running.channels) maxQueued = Math.max(maxQueued, c.queuedBatches);
  }
  const progress = received();
  running.cancel();
  await expect(running.done).resolves.toEqual({ status: 'cancelled' });
  return { gap, maxQueued, progress, channels: running.channels.length };
}

describe('backpressure', () => {
  it('a slow sink behind a channel holds an unbounded source to the channel bound', async () => {
    const batchSize = 16;
    const channelCapacity = 4;
    const { gap, maxQueued, progress, channels } = await maxInFlight({ batchSize, channelCapacity, forceChannel: true });
    expect(channels).toBe(2);
    expect(progress).toBeGreaterThan(0);
    // A channel holds `capacity` batches, plus the one batch its producer may add before it
    // waits; besides, the writer may hold a partial batch and the sink one batch in a write.
    expect(maxQueued).toBeLessThanOrEqual(channelCapacity + 1);
    const bound = batchSize * (channelCapacity + 1) * channels + 2 * batchSize;
    expect(gap).toBeLessThanOrEqual(bound);
  });

  it('a slow sink in the same chain holds the source to one batch', async () => {
    const batchSize = 32;
    const { gap, progress, channels } = await maxInFlight({ batchSize, channelCapacity: 2, forceChannel: false });
    expect(channels).toBe(0);
    expect(progress).toBeGreaterThan(0);
    expect(gap).toBeLessThanOrEqual(batchSize);
  });
});
