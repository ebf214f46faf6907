/**
 * Window join, co-group and interval join: Flink's semantics on small hand-checked inputs,
 * late data of the interval join, buffer cleanup, and the builders' refusals. The
 * differential tests against a batch computation are in `joins.property.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { Job } from '../../src/launch/job.js';
import { OutputTag } from '../../src/core/output-tag.js';
import { collectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { SluiceError } from '../../src/errors/index.js';
import { valueState } from '../../src/state/descriptors.js';
import { JobHarness } from '../../src/testing/job-harness.js';
import { ManualClock } from '../../src/time/clock.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { sliding } from '../../src/window/assigners/sliding.js';
import { tumbling } from '../../src/window/assigners/tumbling.js';
import { coGroup, join } from '../../src/api/joins/index.js';
import { IntervalJoinLateCounts } from '../../src/window/join/index.js';
import { thrown } from '../helpers.js';

interface L {
  k: string;
  a: number;
  ts: number;
}
interface R {
  k: string;
  b: number;
  ts: number;
}

const wm = <T extends { ts: number }>() => WatermarkStrategy.forBoundedOutOfOrderness<T>(0).withTimestampAssigner((e) => e.ts);

function twoSources(left: L[], right: R[], batchSize = 2) {
  const job = new Job({ clock: new ManualClock(0), batchSize });
  const l = job.source(fromCollection(left), { uid: 'left', watermarks: wm<L>() });
  const r = job.source(fromCollection(right), { uid: 'right', watermarks: wm<R>() });
  return { job, l, r };
}

const byString = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();

describe('window join', () => {
  it('emits every pair of a key and window, stamped with the window end - 1', async () => {
    const { job, l, r } = twoSources(
      [
        { k: 'x', a: 1, ts: 100 },
        { k: 'x', a: 2, ts: 900 },
        { k: 'y', a: 3, ts: 500 },
        { k: 'x', a: 4, ts: 1500 },
      ],
      [
        { k: 'x', b: 10, ts: 200 },
        { k: 'x', b: 20, ts: 999 },
        { k: 'z', b: 30, ts: 300 },
        { k: 'x', b: 40, ts: 2500 },
      ],
    );
    const out = collectSink<string>();
    join(l, r)
      .where((e) => e.k)
      .equalTo((e) => e.k)
      .window(tumbling(1000))
      .apply((a, b) => `${a.k}:${a.a}-${b.b}`, { uid: 'j' })
      .sinkTo(out);
    await job.run();
    expect(out.values.slice().sort()).toEqual(['x:1-10', 'x:1-20', 'x:2-10', 'x:2-20']);
    expect(out.timestamps).toEqual([999, 999, 999, 999]);
  });

  it('joins a pair once per sliding window that holds both', async () => {
    const { job, l, r } = twoSources([{ k: 'x', a: 1, ts: 1200 }], [{ k: 'x', b: 2, ts: 1400 }]);
    const out = collectSink<number>();
    l.join(r)
      .where((e) => e.k)
      .equalTo((e) => e.k)
      .window(sliding(1000, 500))
      .apply((a, b) => a.a + b.b, { uid: 'j' })
      .sinkTo(out);
    await job.run();
    // Windows [500, 1500) and [1000, 2000) hold both records.
    expect(out.values).toEqual([3, 3]);
    expect(out.timestamps.sort()).toEqual([1499, 1999]);
  });

  it('flatApply emits any number of results per pair', async () => {
    const { job, l, r } = twoSources([{ k: 'x', a: 2, ts: 1 }], [{ k: 'x', b: 3, ts: 2 }]);
    const out = collectSink<number>();
    join(l, r)
      .where((e) => e.k)
      .equalTo((e) => e.k)
      .window(tumbling(10))
      .flatApply<number>((a, b, o) => {
        for (let i = 0; i < a.a; i++) o.collect(b.b);
      }, { uid: 'j' })
      .sinkTo(out);
    await job.run();
    expect(out.values).toEqual([3, 3]);
  });
});

describe('co-group', () => {
  it('calls the function per key and window, with an empty side where one side has no record', async () => {
    const { job, l, r } = twoSources(
      [
        { k: 'x', a: 1, ts: 100 },
        { k: 'y', a: 2, ts: 200 },
      ],
      [
        { k: 'x', b: 10, ts: 150 },
        { k: 'z', b: 20, ts: 1100 },
      ],
    );
    const out = collectSink<{ key: string; start: number; as: number[]; bs: number[] }>();
    l.coGroup(r)
      .where((e) => e.k)
      .equalTo((e) => e.k)
      .window(tumbling(1000))
      .apply(
        (key, as, bs, o, w) =>
          o.collect({
            key,
            start: w.start,
            as: as.map((a) => a.a),
            bs: bs.map((b) => b.b),
          }),
        { uid: 'cg' },
      )
      .sinkTo(out);
    await job.run();
    expect(byString(out.values)).toEqual(
      byString([
        { key: 'x', start: 0, as: [1], bs: [10] },
        { key: 'y', start: 0, as: [2], bs: [] },
        { key: 'z', start: 1000, as: [], bs: [20] },
      ]),
    );
  });

  it('refuses a missing uid, a missing key selector and streams of two jobs', () => {
    const { l, r } = twoSources([], []);
    const e1 = thrown(() =>
      coGroup(l, r)
        .where((e) => e.k)
        .equalTo((e) => e.k)
        .window(tumbling(10))
        .apply(() => {}, undefined as never),
    );
    expect((e1 as SluiceError).code).toBe('MISSING_UID');
    expect((thrown(() => coGroup(l, r).where(undefined as never)) as SluiceError).code).toBe('INVALID_ARGUMENT');
    const other = new Job().source(fromCollection<R>([]), { uid: 'o' });
    expect((thrown(() => coGroup(l, other)) as SluiceError).code).toBe('INVALID_JOB');
  });
});

describe('interval join', () => {
  const lefts: L[] = [
    { k: 'x', a: 1, ts: 1000 },
    { k: 'x', a: 2, ts: 2000 },
    { k: 'y', a: 3, ts: 1000 },
  ];
  const rights: R[] = [
    { k: 'x', b: 10, ts: 900 },
    { k: 'x', b: 20, ts: 1000 },
    { k: 'x', b: 30, ts: 1100 },
    { k: 'x', b: 40, ts: 2200 },
    { k: 'y', b: 50, ts: 3000 },
  ];

  async function run(configure: (j: ReturnType<ReturnType<typeof start>['between']>) => typeof j, lower: number | string, upper: number | string) {
    const { job, l, r } = twoSources(lefts, rights);
    const out = collectSink<string>();
    configure(start(l, r).between(lower as never, upper as never))
      .process((a, b, ctx, o) => o.collect(`${ctx.key}:${a.a}-${b.b}@${ctx.leftTimestamp},${ctx.rightTimestamp},${ctx.timestamp}`), { uid: 'ij' })
      .sinkTo(out);
    await job.run();
    return out;
  }
  function start(l: ReturnType<typeof twoSources>['l'], r: ReturnType<typeof twoSources>['r']) {
    return l.keyBy((e) => e.k).intervalJoin(r.keyBy((e) => e.k));
  }

  it('matches a.ts + lower <= b.ts <= a.ts + upper, bounds inclusive, result at max(a.ts, b.ts)', async () => {
    const out = await run((j) => j, '-100ms', 200);
    expect(out.values.slice().sort()).toEqual(['x:1-10@1000,900,1000', 'x:1-20@1000,1000,1000', 'x:1-30@1000,1100,1100', 'x:2-40@2000,2200,2200']);
    const byValue = new Map(out.records.map((rec) => [rec.value, rec.timestamp]));
    expect(byValue.get('x:1-30@1000,1100,1100')).toBe(1100);
    expect(byValue.get('x:1-10@1000,900,1000')).toBe(1000);
  });

  it('exclusive bounds leave out records exactly at the bounds', async () => {
    const lo = await run((j) => j.lowerBoundExclusive(), -100, 200);
    expect(lo.values.slice().sort()).toEqual(['x:1-20@1000,1000,1000', 'x:1-30@1000,1100,1100', 'x:2-40@2000,2200,2200']);
    const both = await run((j) => j.lowerBoundExclusive().upperBoundExclusive(), -100, 200);
    expect(both.values.slice().sort()).toEqual(['x:1-20@1000,1000,1000', 'x:1-30@1000,1100,1100']);
  });

  it('a negative upper bound matches only right records before the left one', async () => {
    const out = await run((j) => j, -100, -1);
    expect(out.values).toEqual(['x:1-10@1000,900,1000']);
  });

  it('validates its bounds', () => {
    const { l, r } = twoSources([], []);
    expect((thrown(() => start(l, r).between(10, -10)) as SluiceError).code).toBe('INVALID_ARGUMENT');
    expect((thrown(() => start(l, r).between('-1x' as never, 0)) as SluiceError).code).toBe('INVALID_DURATION');
    const empty = start(l, r).between(5, 5).upperBoundExclusive();
    expect((thrown(() => empty.process(() => {}, { uid: 'ij' })) as SluiceError).code).toBe('INVALID_ARGUMENT');
    expect((thrown(() => start(l, r).between(0, 5).process(() => {}, undefined as never)) as SluiceError).code).toBe('MISSING_UID');
  });

  it('fails with NO_TIMESTAMP on a record without timestamp', async () => {
    const job = new Job({ clock: new ManualClock(0) });
    const l = job.source(fromCollection<L>([{ k: 'x', a: 1, ts: 1 }]), { uid: 'left' });
    const r = job.source(fromCollection<R>([{ k: 'x', b: 1, ts: 1 }]), { uid: 'right' });
    l.keyBy((e) => e.k)
      .intervalJoin(r.keyBy((e) => e.k))
      .between(0, 0)
      .process(() => {}, { uid: 'ij' })
      .sinkTo(collectSink());
    const e = await job.run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe('NO_TIMESTAMP');
    expect((e as SluiceError).message).toContain("step 'ij'");
  });

  it('sends records later than the watermark to the side outputs, and only those; counts them', async () => {
    const h = new JobHarness();
    const left = h.input<L>('left');
    const right = h.input<R>('right');
    const lateL = new OutputTag<L>('late-left');
    const lateR = new OutputTag<R>('late-right');
    const counts = new IntervalJoinLateCounts();
    const joined = left.stream
      .keyBy((e) => e.k)
      .intervalJoin(right.stream.keyBy((e) => e.k))
      .between(-100, 100)
      .sideOutputLeftLateData(lateL)
      .sideOutputRightLateData(lateR)
      .process((a, b, _ctx, o) => o.collect(`${a.a}-${b.b}`), { uid: 'ij', lateCounts: counts });
    const out = h.output(joined);
    const lateLeft = h.output(joined.sideOutput(lateL));
    const lateRight = h.output(joined.sideOutput(lateR));
    h.start();
    left.push({ k: 'x', a: 1, ts: 1000 }, 1000).pushWatermark(1000);
    right.push({ k: 'x', b: 1, ts: 1050 }, 1050).pushWatermark(1000);
    await h.settle();
    expect(out.take()).toEqual(['1-1']);
    // At watermark 1000: ts 999 is late, ts 1000 is not (late means below the watermark).
    left.push({ k: 'x', a: 2, ts: 999 }, 999).push({ k: 'x', a: 3, ts: 1000 }, 1000);
    right.push({ k: 'x', b: 2, ts: 900 }, 900).push({ k: 'x', b: 3, ts: 1000 }, 1000);
    await h.settle();
    expect(out.take().sort()).toEqual(['1-3', '3-1', '3-3']);
    expect(lateLeft.values).toEqual([{ k: 'x', a: 2, ts: 999 }]);
    expect(lateLeft.records[0]!.timestamp).toBe(999);
    expect(lateRight.values).toEqual([{ k: 'x', b: 2, ts: 900 }]);
    expect(counts).toMatchObject({ leftToSideOutput: 1, rightToSideOutput: 1, leftDropped: 0, rightDropped: 0 });
    await h.finish();
  });

  it('counts late records it drops when no side output is set', async () => {
    const h = new JobHarness();
    const left = h.input<L>('left');
    const right = h.input<R>('right');
    const counts = new IntervalJoinLateCounts();
    const out = h.output(
      left.stream
        .keyBy((e) => e.k)
        .intervalJoin(right.stream.keyBy((e) => e.k))
        .between(0, 10)
        .process((a, b, _ctx, o) => o.collect(`${a.a}-${b.b}`), { uid: 'ij', lateCounts: counts }),
    );
    h.start();
    left.pushWatermark(500);
    right.pushWatermark(500);
    await h.settle();
    left.push({ k: 'x', a: 1, ts: 499 }, 499);
    right.push({ k: 'x', b: 1, ts: 499 }, 499).push({ k: 'x', b: 2, ts: 400 }, 400);
    await h.settle();
    expect(out.values).toEqual([]);
    expect(counts).toMatchObject({ leftDropped: 1, rightDropped: 2, leftToSideOutput: 0, rightToSideOutput: 0 });
    await h.finish();
  });

  // Left at 1000 with upper 100 can meet right records up to 1100 (below 1100 when exclusive);
  // right at 1000 with lower -50 can meet left records up to 1050 (below 1050 when exclusive).
  // A record is late only below the watermark, so each is kept while the watermark is at most that last time.
  it.each([
    { exclusive: false, leftKeptUntil: 1100, rightKeptUntil: 1050 },
    { exclusive: true, leftKeptUntil: 1099, rightKeptUntil: 1049 },
  ])('drops buffered records once the watermark passes the last time they can match (exclusive: $exclusive)', async ({ exclusive, leftKeptUntil, rightKeptUntil }) => {
    const h = new JobHarness();
    const left = h.input<L>('left');
    const right = h.input<R>('right');
    let bounded = left.stream
      .keyBy((e) => e.k)
      .intervalJoin(right.stream.keyBy((e) => e.k))
      .between(-50, 100);
    if (exclusive) bounded = bounded.lowerBoundExclusive().upperBoundExclusive();
    h.output(bounded.process((a, b, _ctx, o) => o.collect(`${a.a}-${b.b}`), { uid: 'ij' }));
    h.start();
    left.push({ k: 'x', a: 1, ts: 1000 }, 1000);
    right.push({ k: 'x', b: 1, ts: 1000 }, 1000);
    const buffered = async (watermark?: number) => {
      if (watermark !== undefined) {
        left.pushWatermark(watermark);
        right.pushWatermark(watermark);
      }
      await h.settle();
      const size = (side: string) => h.state('ij', 'x', valueState<{ ts: number[] }>(`interval-join-${side}-by-time`)).value()?.ts.length ?? 0;
      return [size('left'), size('right')];
    };
    expect(await buffered()).toEqual([1, 1]);
    expect(await buffered(rightKeptUntil)).toEqual([1, 1]);
    expect(await buffered(rightKeptUntil + 1)).toEqual([1, 0]);
    expect(await buffered(leftKeptUntil)).toEqual([1, 0]);
    expect(await buffered(leftKeptUntil + 1)).toEqual([0, 0]);
    await h.finish();
  });
});
