import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, generator, transactionalFileSink } from '../../../src/index.js';
import { committedLines } from '../../checkpoint/helpers.js';

const EVENTS = 4_000;

/** A service that answers after 0–3 ms, in whatever order its timers fire. */
const lookup = (i: number) => new Promise<string>((resolve) => setTimeout(() => resolve(`${i}:${i * 7}`), i % 4));

function enrichJob(dir: string, mode: 'ordered' | 'unordered', failure: { failed: boolean; when: () => boolean }): Job {
  const job = new Job({
    name: `enrich-${mode}`,
    batchSize: 64,
    checkpoints: { interval: '15ms', dir: join(dir, 'checkpoints') },
    delivery: 'exactly-once',
    restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
  });
  job
    .source(generator({ make: (i) => i, count: EVENTS, ratePerSecond: 40_000 }), { uid: 'numbers' })
    .asyncMap(lookup, { uid: 'enrich', mode, capacity: 25 })
    .map((line) => {
      // Fails once, downstream of the async step, while its calls are in flight.
      if (!failure.failed && Number(line.split(':')[0]) > EVENTS / 2 && failure.when()) {
        failure.failed = true;
        throw new Error('injected failure');
      }
      return line;
    })
    .sinkTo(transactionalFileSink<string>(join(dir, 'out')), { uid: 'out' });
  return job;
}

describe('async step in a job with checkpoints, a failure and a restart', () => {
  for (const mode of ['ordered', 'unordered'] as const) {
    it(`${mode}: no record is lost or doubled`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `sluice-async-${mode}-`));
      let restarts = 0;
      let completed = () => 0;
      const failure = { failed: false, when: () => completed() > 0 };
      const running = enrichJob(dir, mode, failure).start({ onRestart: () => restarts++ });
      completed = () => running.checkpoints.filter((c) => c.status === 'completed').length;
      await running.done;
      expect(failure.failed).toBe(true);
      expect(restarts).toBe(1);
      const expected = Array.from({ length: EVENTS }, (_, i) => `${i}:${i * 7}`).sort();
      expect(committedLines(dir).map((l) => JSON.parse(l) as string)).toEqual(expected);
    }, 60_000);
  }
});
