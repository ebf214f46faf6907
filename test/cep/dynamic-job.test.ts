/**
 * Dynamic patterns in a real job: JSON patterns from the start, changed by a stream of
 * updates, and a failure after a completed checkpoint that must commit exactly what the
 * uninterrupted run commits: the active patterns (added, replaced, removed) and their
 * partial matches come back from the checkpoint, not from the job's initial patterns.
 *
 * In event time the updates apply before any event matches: the update stream carries no
 * watermarks, so the step's watermark waits until it has ended (the step's inputs' minimum).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, WatermarkStrategy, fromCollection, generator, transactionalFileSink, type JsonPattern, type PatternUpdate } from '../../src/index.js';
import { committedLines, expectExactRecovery, injectFailure, recoveringJobOptions, type InjectedFailure } from '../checkpoint/helpers.js';

interface Txn {
  card: number;
  amount: number;
  at: number;
}

const smallThenLarge = (n: number): JsonPattern => ({
  skip: 'skip-past-last-event',
  within: '10m',
  stages: [
    { name: 'small', where: 'amount < 10', times: n },
    { name: 'large', contiguity: 'followedBy', where: 'amount > 500' },
  ],
});
const INITIAL = {
  fraud: smallThenLarge(3),
  twice: { stages: [{ name: 'l1', where: 'amount > 500' }, { name: 'l2', contiguity: 'next', where: 'amount > 500' }] } satisfies JsonPattern,
};
const UPDATES: PatternUpdate[] = [
  { op: 'replace', id: 'fraud', pattern: smallThenLarge(2) },
  { op: 'remove', id: 'twice' },
  {
    op: 'add',
    id: 'rising',
    pattern: { skip: 'skip-past-last-event', within: '5m', stages: [{ name: 'a', where: 'amount >= 5 && amount < 10' }, { name: 'b', contiguity: 'next', where: 'amount > $a[0].amount * 2' }] },
  },
];

describe('dynamic patterns in a job', () => {
  it('after a failure, restarts with the checkpointed patterns and commits exactly what an uninterrupted run commits', async () => {
    const EVENTS = 20_000;
    const make = (i: number): Txn => ({ card: i % 37, amount: (i * 7919) % 11 === 0 ? 1000 : (i * 104_729) % 13, at: i * 1000 });
    const run = (dir: string, failAt?: InjectedFailure) => {
      const job = new Job(recoveringJobOptions('cep-dynamic-recovery', dir));
      const updates = job.source(fromCollection(UPDATES), { uid: 'rules' });
      job
        .source(generator({ make, count: EVENTS, ratePerSecond: failAt ? 100_000 : undefined }), {
          uid: 'txns',
          watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Txn>('5s').withTimestampAssigner((t) => t.at),
        })
        .map((t) => {
          injectFailure(failAt, t.at / 1000);
          return t;
        })
        .keyBy('card')
        .patterns(updates)
        .withInitialPatterns(INITIAL)
        .select((m, ctx) => `${ctx.patternId} ${ctx.key}: ${Object.values(m).flat().map((t) => t.at / 1000).join(',')}`, { uid: 'rules-step' })
        .sinkTo(transactionalFileSink<string>(join(dir, 'out')), { uid: 'out' });
      return job;
    };
    const clean = mkdtempSync(join(tmpdir(), 'sluice-cep-dyn-clean-'));
    await run(clean).run();
    const expected = committedLines(clean);
    const lines = expected.map((l) => JSON.parse(l) as string);
    const byPattern = (id: string) => lines.filter((l) => l.startsWith(`${id} `));
    // The updates took effect: the replaced fraud rule takes two small events, the removed one never matched, the added one did.
    expect(byPattern('fraud').length).toBeGreaterThan(50);
    expect(byPattern('fraud').every((l) => l.split(': ')[1]!.split(',').length === 3)).toBe(true);
    expect(byPattern('twice')).toEqual([]);
    expect(byPattern('rising').length).toBeGreaterThan(50);

    await expectExactRecovery('sluice-cep-dyn', Math.floor(EVENTS * 0.6), run, expected);
  }, 60_000);
});
