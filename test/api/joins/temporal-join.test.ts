/**
 * The temporal join as the public API builds it: options checked when the job is built,
 * a bounded job end to end, and a job that fails after a completed checkpoint, restarts
 * from it and must commit exactly what an uninterrupted run commits (waiting orders and
 * versions come back from the checkpoint with their timers).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, OutputTag, WatermarkStrategy, fromCollection, generator, temporalJoin, transactionalFileSink } from '../../../src/index.js';
import { JobHarness } from '../../../src/testing/index.js';
import { committedLines, expectExactRecovery, injectFailure, recoveringJobOptions, type InjectedFailure } from '../../checkpoint/helpers.js';

interface Order {
  cur: number;
  id: number;
  at: number;
}
interface Rate {
  cur: number;
  rate: number;
  at: number;
  retired: boolean;
}

const byAt = <T extends { at: number }>(delay: number) => WatermarkStrategy.forBoundedOutOfOrderness<T>(delay).withTimestampAssigner((r) => r.at);

describe('temporalJoin', () => {
  it('checks its options when the job is built', () => {
    const job = new Job({ name: 'tj-options' });
    const orders = job.source(fromCollection<Order>([]), { uid: 'orders' }).keyBy((o) => o.cur);
    const rates = job.source(fromCollection<Rate>([]), { uid: 'rates' }).keyBy((r) => r.cur);
    const other = new Job({ name: 'other' }).source(fromCollection<Rate>([]), { uid: 'rates' }).keyBy((r) => r.cur);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'no error';
    };
    expect(code(() => temporalJoin(orders, rates, { uid: 'x', kind: 'outer' as 'left', join: () => 1 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => temporalJoin(orders, rates, { uid: 'x', kind: 'left' } as never))).toBe('INVALID_ARGUMENT');
    expect(code(() => temporalJoin(orders, rates, { uid: 'x', kind: 'left', join: () => 1, isDelete: 'retired' as never }))).toBe('INVALID_ARGUMENT');
    expect(code(() => temporalJoin(orders, other, { uid: 'x', kind: 'left', join: () => 1 }))).toBe('INVALID_JOB');
    expect(code(() => orders.temporalJoin(rates, { uid: 'x', kind: 'inner', join: (o, r) => o.id * r.rate }))).toBe('no error');
  });

  it('joins each order with the rate of its currency at its time, in a running job, and sends a late order aside', async () => {
    const h = new JobHarness();
    const orders = h.input<Order>('orders');
    const rates = h.input<Rate>('rates');
    const late = new OutputTag<Order>('late-orders');
    const priced = orders.stream.keyBy((o) => o.cur).temporalJoin(rates.stream.keyBy((r) => r.cur), {
      uid: 'priced',
      kind: 'left',
      join: (o, r) => `${o.id}:${r?.rate ?? '-'}`,
      isDelete: (r) => r.retired,
      lateProbes: late,
    });
    const out = h.output(priced);
    const lateOut = h.output(priced.sideOutput(late));
    h.start();
    const o = (id: number, cur: number, at: number) => orders.push({ cur, id, at }, at);
    const r = (rate: number, at: number, retired = false) => rates.push({ cur: 1, rate, at, retired }, at);
    o(1, 1, 1500); // before the rate at 2000 that comes later
    o(2, 2, 1000); // currency 2 has no rate: the left join gives undefined
    o(3, 1, 3500); // after the retirement at 3000
    o(4, 1, 4000); // at the time of a rate: that rate is valid
    r(10, 1000).pushWatermark(1200);
    orders.pushWatermark(1200);
    await h.settle();
    expect(out.values).toEqual(['2:-']);
    r(20, 2000);
    r(0, 3000, true);
    r(40, 4000);
    rates.pushWatermark(5000);
    orders.pushWatermark(5000);
    await h.settle();
    o(5, 1, 4500); // behind the watermark: late
    await h.finish();
    expect([...out.values].sort()).toEqual(['1:10', '2:-', '3:-', '4:40']);
    expect(out.records.find((x) => x.value === '4:40')?.timestamp).toBe(4000);
    expect(lateOut.values.map((x) => x.id)).toEqual([5]);
  });

  it('after a failure, restarts from the latest checkpoint and commits exactly what an uninterrupted run commits', async () => {
    const ORDERS = 20_000;
    const RATES = 2_000;
    // Orders every 5 ms with up to 40 ms of disorder; a rate per currency every 50 ms, one in 13 a retirement.
    const order = (i: number): Order => ({ cur: i % 10, id: i, at: 1000 + i * 5 - ((i * 7919) % 40) });
    const rate = (i: number): Rate => ({ cur: (i * 3) % 10, rate: i, at: 1000 + i * 50 - ((i * 104_729) % 30), retired: i % 13 === 0 });
    const run = (dir: string, failAt?: InjectedFailure) => {
      const job = new Job(recoveringJobOptions('tj-recovery', dir));
      const rates = job.source(generator({ make: rate, count: RATES, ratePerSecond: failAt ? 10_000 : undefined }), { uid: 'rates', watermarks: byAt<Rate>(40) });
      job
        .source(generator({ make: order, count: ORDERS, ratePerSecond: failAt ? 100_000 : undefined }), { uid: 'orders', watermarks: byAt<Order>(50) })
        .map((o) => {
          injectFailure(failAt, o.id);
          return o;
        })
        .keyBy((o) => o.cur)
        .temporalJoin(rates.keyBy((r) => r.cur), { uid: 'priced', kind: 'left', join: (o, r) => `${o.id}:${o.at}:${r?.rate ?? '-'}`, isDelete: (r) => r.retired })
        .sinkTo(transactionalFileSink<string>(join(dir, 'out')), { uid: 'out' });
      return job;
    };
    const clean = mkdtempSync(join(tmpdir(), 'sluice-tj-clean-'));
    await run(clean).run();
    const expected = committedLines(clean);
    expect(expected.length).toBe(ORDERS); // a left join: one line per order, none late
    expect(expected.filter((l) => l.endsWith(':-')).length).toBeLessThan(ORDERS / 5);

    await expectExactRecovery('sluice-tj', Math.floor(ORDERS * 0.6), run, expected);
  }, 60_000);
});
