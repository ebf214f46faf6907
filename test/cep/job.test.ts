/**
 * CEP through real jobs: a bounded run end to end, and a run that fails after a completed
 * checkpoint, restarts from it and must commit exactly what an uninterrupted run commits
 * (the partial matches and buffered events of every card come back from the checkpoint).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AfterMatchSkip,
  Job,
  OutputTag,
  Pattern,
  WatermarkStrategy,
  collectSink,
  fromCollection,
  generator,
  transactionalFileSink,
  type TimedOutMatch,
} from '../../src/index.js';
import { committedLines, expectExactRecovery, injectFailure, recoveringJobOptions, type InjectedFailure } from '../checkpoint/helpers.js';

interface Txn {
  card: number;
  amount: number;
  at: number;
}

/** Three small transactions, then a large one, within ten minutes, per card. */
const fraud = Pattern.begin<Txn, 'small'>('small', AfterMatchSkip.skipPastLastEvent())
  .where((t) => t.amount < 10)
  .times(3)
  .followedBy('large')
  .where((t) => t.amount > 500)
  .within('10m');

describe('CEP in a job', () => {
  it('finds the matches of a bounded input, per key, in event time with disorder, and reports timeouts', async () => {
    const m = 60_000;
    const txns: Txn[] = [
      { card: 1, amount: 5, at: 1 * m },
      { card: 2, amount: 3, at: 1 * m },
      { card: 1, amount: 7, at: 3 * m },
      { card: 1, amount: 900, at: 2 * m }, // arrives after 7, but comes before it in event time: too early to complete
      { card: 1, amount: 2, at: 4 * m },
      { card: 1, amount: 800, at: 6 * m }, // card 1: 5, 7, 2, then 800 at 6 m: a match
      { card: 2, amount: 4, at: 2 * m },
      { card: 2, amount: 1, at: 3 * m },
      { card: 2, amount: 700, at: 12 * m }, // card 2: too late, 11 minutes after its first
    ];
    const job = new Job({ name: 'cep-bounded' });
    const unfinished = new OutputTag<TimedOutMatch<Txn, 'small' | 'large'>>('unfinished');
    const out = collectSink<string>();
    const timedOut = collectSink<string>();
    const alerts = job
      .source(fromCollection(txns), { uid: 'txns', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Txn>('2m').withTimestampAssigner((t) => t.at) })
      .keyBy('card')
      .pattern(fraud)
      .sideOutputTimedOut(unfinished)
      .select((match, ctx) => `card ${ctx.key}: ${match.small.map((t) => t.amount).join('+')} then ${match.large[0]!.amount}`, { uid: 'fraud' });
    alerts.sinkTo(out);
    alerts.sideOutput(unfinished).map((t) => `card ${t.match.small[0]!.card}: ${t.match.small.length} small, timed out at ${t.timeoutAt / m} m`).sinkTo(timedOut);
    await job.run();
    expect(out.values).toEqual(['card 1: 5+7+2 then 800']);
    expect(timedOut.values).toEqual(['card 2: 3 small, timed out at 11 m', 'card 2: 2 small, timed out at 12 m', 'card 2: 1 small, timed out at 13 m']);
  });

  it('matches a stream that is not keyed as one sequence', async () => {
    const job = new Job({ name: 'cep-unkeyed' });
    const out = collectSink<string>();
    job
      .source(fromCollection([2, 5, 1, 3, 7, 900].map((amount, i) => ({ card: i, amount, at: i * 1000 })), { timestamps: (t) => t.at }), { uid: 'txns' })
      .pattern(fraud)
      .process({ processMatch: (m, ctx, o) => o.collect(`${ctx.key}: ${m.small.map((t) => t.amount).join('+')} then ${m.large[0]!.amount}`) }, { uid: 'fraud' })
      .sinkTo(out);
    await job.run();
    expect(out.values).toEqual(['0: 2+5+1 then 900']); // every card: the stream is one sequence
  });

  it('after a failure, restarts from the latest checkpoint and commits exactly what an uninterrupted run commits', async () => {
    const EVENTS = 20_000;
    // Per card a transaction a minute; small most of the time, a large one now and then.
    const make = (i: number): Txn => ({ card: i % 37, amount: (i * 7919) % 11 === 0 ? 1000 : (i * 104_729) % 13, at: i * 1000 });
    const run = (dir: string, failAt?: InjectedFailure) => {
      const job = new Job(recoveringJobOptions('cep-recovery', dir));
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
        .pattern(fraud)
        .select((match, ctx) => `${ctx.key}:${match.small.map((t) => t.at).join(',')}:${match.large[0]!.at}`, { uid: 'fraud' })
        .sinkTo(transactionalFileSink<string>(join(dir, 'out')), { uid: 'out' });
      return job;
    };
    const clean = mkdtempSync(join(tmpdir(), 'sluice-cep-clean-'));
    await run(clean).run();
    const expected = committedLines(clean);
    expect(expected.length).toBeGreaterThan(50);

    await expectExactRecovery('sluice-cep', Math.floor(EVENTS * 0.6), run, expected);
  }, 60_000);
});
