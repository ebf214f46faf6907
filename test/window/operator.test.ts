/**
 * Window semantics pinned one by one, through whole jobs under a manual clock
 * (`JobHarness`): when windows fire, lateness and updates, quiet keys and idle inputs,
 * session merging, triggers, evictors, processing time, per-window state, and records
 * without timestamps. The random differential tests are in `windows.property.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { DataStream } from '../../src/api/data-stream.js';
import type { DeadLetter } from '../../src/runtime/dead-letter-queue.js';
import { OutputTag } from '../../src/core/output-tag.js';
import { SluiceError } from '../../src/errors/index.js';
import { valueState } from '../../src/state/descriptors.js';
import { JobHarness } from '../../src/testing/index.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { count } from '../../src/window/aggregates/index.js';
import { globalWindows, session, sliding, tumbling, tumblingProcessingTime } from '../../src/window/assigners/index.js';
import { countEvictor, timeEvictor } from '../../src/window/evictors/index.js';
import { continuousEventTimeTrigger, countTrigger } from '../../src/window/triggers/index.js';
import type { ProcessWindowFunction, WindowResult } from '../../src/window/window-function.js';
import type { WindowedStream } from '../../src/api/windowed-stream.js';

interface Ev {
  k: string;
  ts: number;
}
const ev = (k: string, ts: number): Ev => ({ k, ts });

/** [key, start, end, value, timing, isUpdate] of a result, for compact expectations. */
type Flat = [string | null, number, number, unknown, string, boolean];
const flat = <V>(r: WindowResult<string | null, V>): Flat => [r.key, r.start, r.end, r.value, r.timing, r.isUpdate];

/** The timestamps of a window's records, with the window, key, timing and isUpdate. */
function timestampsOf(): ProcessWindowFunction<Ev, Flat, string> {
  return {
    process: (key, ctx, elements, out) =>
      out.collect([
        key,
        ctx.window.start,
        ctx.window.end,
        elements.map((e) => e.ts),
        ctx.timing,
        ctx.isUpdate,
      ]),
  };
}

/**
 * Counts per window with the sliced operator (aggregate, default trigger) and with the
 * general one (process), so each test below checks both where both apply.
 */
function bothOperators(h: JobHarness, ws: WindowedStream<Ev, string>, uid: string) {
  const sliced = h.output(ws.aggregate(count<Ev>(), { uid: `${uid}-sliced` }).map(flat));
  const general = h.output(
    ws.process<Flat>(
      { process: (key, ctx, elements, out) => out.collect([key, ctx.window.start, ctx.window.end, elements.length, ctx.timing, ctx.isUpdate]) },
      { uid: `${uid}-general` },
    ),
  );
  return { take: () => [sliced.take(), general.take()] as const };
}

describe('when event-time windows fire', () => {
  it('fires a window exactly when the watermark reaches its last timestamp, end - 1', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = bothOperators(h, input.stream.keyBy((e) => e.k).window(tumbling(10)), 'w');
    h.start();
    input.push(ev('a', 1), 1).push(ev('a', 9), 9).push(ev('a', 10), 10).pushWatermark(8);
    await h.settle();
    expect(out.take()).toEqual([[], []]);
    input.pushWatermark(9);
    await h.settle();
    const first: Flat[] = [['a', 0, 10, 2, 'on-time', false]];
    expect(out.take()).toEqual([first, first]);
    input.pushWatermark(18);
    await h.settle();
    expect(out.take()).toEqual([[], []]);
    input.pushWatermark(19);
    await h.settle();
    const second: Flat[] = [['a', 10, 20, 1, 'on-time', false]];
    expect(out.take()).toEqual([second, second]);
    await h.finish();
  });

  it('fires each sliding window at its own end, on slices of gcd(size, slide) too', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = bothOperators(h, input.stream.keyBy((e) => e.k).window(sliding(5, 3)), 'w');
    h.start();
    // Windows of sliding(5, 3): [-3, 2), [0, 5), [3, 8), [6, 11) …
    input.push(ev('a', 1), 1).push(ev('a', 4), 4).push(ev('a', 7), 7).pushWatermark(4);
    await h.settle();
    const early: Flat[] = [
      ['a', -3, 2, 1, 'on-time', false],
      ['a', 0, 5, 2, 'on-time', false],
    ];
    expect(out.take()).toEqual([early, early]);
    input.pushWatermark(10);
    await h.settle();
    const later: Flat[] = [
      ['a', 3, 8, 2, 'on-time', false],
      ['a', 6, 11, 1, 'on-time', false],
    ];
    expect(out.take()).toEqual([later, later]);
    await h.finish();
  });

  it('does not fire an empty window', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = bothOperators(h, input.stream.keyBy((e) => e.k).window(tumbling(10)), 'w');
    h.start();
    input.push(ev('a', 5), 5).push(ev('a', 25), 25).pushWatermark(100);
    await h.settle();
    const both: Flat[] = [
      ['a', 0, 10, 1, 'on-time', false],
      ['a', 20, 30, 1, 'on-time', false],
    ];
    expect(out.take()).toEqual([both, both]);
    await h.finish();
  });

  // Issue 23, run on Flink 2.2.0: a late record in two fired sliding windows re-fires them
  // latest start first (the order Flink's sliding assigner lists them); the sliced path
  // (aggregate, pre-aggregate) emitted them in ascending order, unlike the general one.
  it('re-fires the sliding windows of a late record latest start first, on both paths, as Flink', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = bothOperators(h, input.stream.keyBy((e) => e.k).window(sliding(10_000, 3_000)).allowedLateness(5_000), 'w');
    h.start();
    // [0,10000) and [3000,13000) have fired, both within their allowed lateness.
    input.push(ev('a', 5_000), 5_000).push(ev('b', 15_000), 15_000).pushWatermark(13_000);
    await h.settle();
    out.take();
    input.push(ev('a', 6_000), 6_000);
    await h.settle();
    const refired: Flat[] = [
      ['a', 3_000, 13_000, 2, 'late', true],
      ['a', 0, 10_000, 2, 'late', true],
    ];
    expect(out.take()).toEqual([refired, refired]);
    await h.finish();
  });

  it('re-fires a window for each record within the allowed lateness, as a late update; beyond it the record goes to the side output', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const lateTag = new OutputTag<Ev>('late');
    const ws = input.stream
      .keyBy((e) => e.k)
      .window(tumbling(10))
      .allowedLateness(5)
      .sideOutputLateData(lateTag);
    const slicedStep = ws.aggregate(count<Ev>(), { uid: 'sliced' });
    const generalStep = ws.process(timestampsOf(), { uid: 'general' });
    const sliced = h.output(slicedStep.map(flat));
    const general = h.output(generalStep);
    const lateSliced = h.output(slicedStep.sideOutput(lateTag));
    const lateGeneral = h.output(generalStep.sideOutput(lateTag));
    h.start();
    input.push(ev('a', 3), 3).pushWatermark(9);
    await h.settle();
    expect(sliced.take()).toEqual([['a', 0, 10, 1, 'on-time', false]]);
    expect(general.take()).toEqual([['a', 0, 10, [3], 'on-time', false]]);
    input.push(ev('a', 4), 4).pushWatermark(13).push(ev('a', 0), 0);
    await h.settle();
    expect(sliced.take()).toEqual([
      ['a', 0, 10, 2, 'late', true],
      ['a', 0, 10, 3, 'late', true],
    ]);
    expect(general.take()).toEqual([
      ['a', 0, 10, [3, 4], 'late', true],
      ['a', 0, 10, [3, 4, 0], 'late', true],
    ]);
    // At watermark 14 = end - 1 + lateness the window is gone: its records are late now.
    input.pushWatermark(14).push(ev('a', 9), 9).push(ev('b', 9), 9);
    await h.settle();
    expect([sliced.take(), general.take()]).toEqual([[], []]);
    expect(lateSliced.take()).toEqual([ev('a', 9), ev('b', 9)]);
    expect(lateGeneral.take()).toEqual([ev('a', 9), ev('b', 9)]);
    await h.finish();
  });

  it('fires a quiet key’s window when other keys move the watermark', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const timed = input.stream.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts));
    const out = bothOperators(h, timed.keyBy((e) => e.k).window(tumbling(10)), 'w');
    h.start();
    input.push(ev('a', 1));
    for (const ts of [2, 5, 8]) input.push(ev('b', ts));
    await h.settle();
    expect(out.take()).toEqual([[], []]);
    // Only 'b' has records from here on; the watermark (highest timestamp - 1) passes 9.
    input.push(ev('b', 11));
    await h.settle();
    const fired: Flat[] = [
      ['a', 0, 10, 1, 'on-time', false],
      ['b', 0, 10, 3, 'on-time', false],
    ];
    const [s, g] = out.take();
    expect([[...s].sort(), [...g].sort()]).toEqual([fired, fired]);
    await h.finish();
  });

  it('does not hold windows back for an idle input of a union (withIdleness)', async () => {
    const h = new JobHarness();
    const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>()
      .withTimestampAssigner((e) => e.ts)
      .withIdleness(1000);
    const busy = h.input<Ev>('busy');
    const quiet = h.input<Ev>('quiet');
    const union = busy.stream.assignTimestampsAndWatermarks(strategy).union(quiet.stream.assignTimestampsAndWatermarks(strategy));
    const out = bothOperators(h, union.keyBy((e) => e.k).window(tumbling(10)), 'w');
    h.start();
    quiet.push(ev('q', 0));
    busy.push(ev('a', 1)).push(ev('a', 50));
    await h.settle();
    await h.advanceProcessingTime(200);
    // 'quiet' holds the union's watermark at -1 until it is idle.
    expect(out.take()).toEqual([[], []]);
    for (let t = 0; t < 12; t++) {
      busy.push(ev('a', 51 + t));
      await h.advanceProcessingTime(200);
    }
    const fired: Flat[] = [
      ['a', 0, 10, 1, 'on-time', false],
      ['a', 50, 60, 10, 'on-time', false],
      ['q', 0, 10, 1, 'on-time', false],
    ];
    const [s, g] = out.take();
    expect([[...s].sort(), [...g].sort()]).toEqual([fired, fired]);
    await h.finish();
  });
});

describe('session windows', () => {
  it('merges two sessions when a record bridges them out of order, with their contents', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const ws = input.stream.keyBy((e) => e.k).window(session(10));
    const counts = h.output(ws.aggregate(count<Ev>(), { uid: 'count' }).map(flat));
    const records = h.output(ws.process(timestampsOf(), { uid: 'records' }));
    h.start();
    input.push(ev('a', 0), 0).push(ev('a', 18), 18).pushWatermark(5);
    await h.settle();
    input.push(ev('a', 9), 9).pushWatermark(26);
    await h.settle();
    expect(counts.take()).toEqual([]);
    input.pushWatermark(27);
    await h.settle();
    expect(counts.take()).toEqual([['a', 0, 28, 3, 'on-time', false]]);
    expect(records.take()).toEqual([['a', 0, 28, [0, 18, 9], 'on-time', false]]);
    await h.finish();
  });

  it('lets a record at exactly a fired session’s end start a new session (Flink: the watermark end - 1 closed it)', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const counts = h.output(
      input.stream
        .keyBy((e) => e.k)
        .window(session(10))
        .aggregate(count<Ev>(), { uid: 'count' })
        .map(flat),
    );
    h.start();
    input.push(ev('a', 0), 0).pushWatermark(9).push(ev('a', 10), 10);
    await h.finish();
    // In batch the two would be one session [0, 20): windows that touch merge.
    expect(counts.values).toEqual([
      ['a', 0, 10, 1, 'on-time', false],
      ['a', 10, 20, 1, 'on-time', false],
    ]);
  });

  it('counts across merged sessions with a count trigger', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = h.output(
      input.stream
        .keyBy((e) => e.k)
        .window(session(100))
        .trigger(countTrigger(2))
        .process(timestampsOf(), { uid: 'sessions' }),
    );
    h.start();
    input.push(ev('a', 0), 0).push(ev('a', 150), 150);
    await h.settle();
    expect(out.take()).toEqual([]);
    // 80 bridges [0, 100) and [150, 250): the merged count is 3, which fires.
    input.push(ev('a', 80), 80);
    await h.settle();
    expect(out.take()).toEqual([['a', 0, 250, [0, 150, 80], 'early', false]]);
    input.push(ev('a', 90), 90).push(ev('a', 95), 95);
    await h.settle();
    expect(out.take()).toEqual([['a', 0, 250, [0, 150, 80, 90, 95], 'early', true]]);
    // Time does not fire a count trigger.
    input.pushWatermark(1000);
    await h.settle();
    expect(out.take()).toEqual([]);
    await h.finish();
  });
});

describe('triggers and evictors', () => {
  // Issue 23, run on Flink 2.2.0: one record at -113000. Flink aligns the first continuous
  // firing with ts - ts % interval (% rounds toward zero), so no early firing at -111000.
  it.each([
    { name: '10 s tumbling, 3 s interval', windows: () => tumbling<Ev>(10_000), interval: 3_000, firings: [[-120_000, -110_000, 'on-time']] },
    {
      name: '5 s sessions, 2 s interval',
      windows: () => session<Ev>(5_000),
      interval: 2_000,
      firings: [
        [-113_000, -108_000, 'early'],
        [-113_000, -108_000, 'on-time'],
      ],
    },
  ])('a continuous event-time trigger at negative event times fires as in Flink: $name', async ({ windows, interval, firings }) => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = h.output(
      input.stream
        .keyBy((e) => e.k)
        .window(windows())
        .trigger(continuousEventTimeTrigger(interval))
        .aggregate(count<Ev>(), { uid: 'w' })
        .map((r) => [r.start, r.end, r.timing]),
    );
    h.start();
    input.push(ev('a', -113_000), -113_000);
    await h.finish();
    expect(out.values).toEqual(firings);
  });

  it('fires early with a continuous event-time trigger, then on time', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = h.output(
      input.stream
        .keyBy((e) => e.k)
        .window(tumbling(100))
        .trigger(continuousEventTimeTrigger(10))
        .aggregate(count<Ev>(), { uid: 'w' })
        .map(flat),
    );
    h.start();
    input.push(ev('a', 5), 5).pushWatermark(9);
    await h.settle();
    expect(out.take()).toEqual([]);
    input.pushWatermark(10);
    await h.settle();
    expect(out.take()).toEqual([['a', 0, 100, 1, 'early', false]]);
    input.push(ev('a', 15), 15).pushWatermark(20);
    await h.settle();
    expect(out.take()).toEqual([['a', 0, 100, 2, 'early', true]]);
    input.pushWatermark(99);
    await h.settle();
    // A watermark that jumps past several early firings labels each by its own time.
    expect(out.take()).toEqual([
      ...[30, 40, 50, 60, 70, 80, 90].map((): Flat => ['a', 0, 100, 2, 'early', true]),
      ['a', 0, 100, 2, 'on-time', true],
    ]);
    await h.finish();
  });

  it('evicts before the function (count, time) or after it (doEvictAfter)', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const keyed = input.stream.keyBy((e) => e.k);
    const countBefore = h.output(keyed.window(tumbling(100)).evictor(countEvictor(2)).process(timestampsOf(), { uid: 'count-before' }));
    const timeBefore = h.output(keyed.window(tumbling(100)).evictor(timeEvictor(10)).process(timestampsOf(), { uid: 'time-before' }));
    // The function sees all; then only the last 2 (or the last 10 ms) stay for the next firing.
    const countAfter = h.output(
      keyed
        .window(globalWindows<Ev>())
        .trigger(countTrigger(3))
        .evictor(countEvictor(2, { doEvictAfter: true }))
        .process(timestampsOf(), { uid: 'count-after' }),
    );
    const timeAfter = h.output(
      keyed
        .window(globalWindows<Ev>())
        .trigger(countTrigger(2))
        .evictor(timeEvictor(10, { doEvictAfter: true }))
        .process(timestampsOf(), { uid: 'time-after' }),
    );
    h.start();
    for (const ts of [0, 50, 55, 60, 70, 71]) input.push(ev('a', ts), ts);
    input.pushWatermark(99);
    await h.settle();
    expect(countBefore.take().map((r) => r[3])).toEqual([[70, 71]]);
    // Newest 71, so records after 61 stay (61 itself would go).
    expect(timeBefore.take().map((r) => r[3])).toEqual([[70, 71]]);
    expect(countAfter.take().map((r) => r[3])).toEqual([
      [0, 50, 55],
      [50, 55, 60, 70, 71],
    ]);
    expect(timeAfter.take().map((r) => r[3])).toEqual([
      [0, 50],
      [50, 55, 60],
      [55, 60, 70, 71],
    ]);
    await h.finish();
  });
});

describe('processing-time windows', () => {
  it('assign records by the clock when they arrive, and fire when the clock reaches end - 1', async () => {
    const h = new JobHarness({ startTime: 10 });
    const input = h.input<Ev>('events');
    const out = h.output(
      input.stream
        .keyBy((e) => e.k)
        .window(tumblingProcessingTime(100))
        .aggregate(count<Ev>(), { uid: 'w' })
        .map(flat),
    );
    h.start();
    // Event timestamps do not matter, nor does their absence.
    input.push(ev('a', 5000), 5000).push(ev('a', 0));
    await h.settle();
    await h.advanceProcessingTime(40);
    input.push(ev('b', 7), 7);
    await h.settle();
    await h.advanceProcessingTime(48); // clock 98
    expect(out.take()).toEqual([]);
    await h.advanceProcessingTime(1); // clock 99
    expect(out.take().sort()).toEqual([
      ['a', 0, 100, 2, 'on-time', false],
      ['b', 0, 100, 1, 'on-time', false],
    ]);
    // At clock 99 a record still belongs to [0, 100); at 100 to the next window.
    await h.advanceProcessingTime(1);
    input.push(ev('a', 1), 1);
    await h.settle();
    await h.advanceProcessingTime(98); // clock 198
    expect(out.take()).toEqual([]);
    await h.advanceProcessingTime(1); // clock 199
    expect(out.take()).toEqual([['a', 100, 200, 1, 'on-time', false]]);
    await h.finish();
  });
});

describe('window function state', () => {
  it('keeps windowState per window (cleared with it) and globalState per key across windows', async () => {
    const firings = valueState<number>('firings');
    const total = valueState<number>('total');
    const cleared: string[] = [];
    const fn: ProcessWindowFunction<Ev, [string, number, number, number], string> = {
      process: (key, ctx, _elements, out) => {
        const w = ctx.windowState(firings);
        const g = ctx.globalState(total);
        w.update((w.value() ?? 0) + 1);
        g.update((g.value() ?? 0) + 1);
        out.collect([key, ctx.window.start, w.value()!, g.value()!]);
      },
      clear: (ctx) => {
        cleared.push(`${ctx.key}@${ctx.window.start}:${ctx.windowState(firings).value()}`);
        ctx.windowState(firings).clear();
      },
    };
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const out = h.output(
      input.stream
        .keyBy((e) => e.k)
        .window(tumbling(10))
        .allowedLateness(20)
        .process(fn, { uid: 'w' }),
    );
    h.start();
    input.push(ev('a', 1), 1).pushWatermark(9).push(ev('a', 2), 2).push(ev('a', 15), 15).pushWatermark(19).push(ev('b', 3), 3);
    await h.settle();
    expect(out.take()).toEqual([
      ['a', 0, 1, 1],
      ['a', 0, 2, 2],
      ['a', 10, 1, 3],
      ['b', 0, 1, 1],
    ]);
    input.pushWatermark(29);
    await h.settle();
    expect(cleared.sort()).toEqual(['a@0:2', 'b@0:1']);
    await h.finish();
  });
});

describe('records without timestamps in event-time windows', () => {
  const noTimestamp = (build: (s: DataStream<Ev>) => DataStream<any>) => async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    h.output(build(input.stream));
    h.start();
    input.push(ev('a', 1));
    const error = await h.settle().then(
      () => h.finish().then(() => undefined, (e: unknown) => e),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('NO_TIMESTAMP');
    expect((error as SluiceError).message).toContain("step 'w'");
  };
  it('fail the job with NO_TIMESTAMP (sliced operator)', noTimestamp((s) => s.keyBy((e) => e.k).window(tumbling(10)).aggregate(count<Ev>(), { uid: 'w' })));
  it('fail the job with NO_TIMESTAMP (general operator)', noTimestamp((s) => s.keyBy((e) => e.k).window(session(10)).process(timestampsOf(), { uid: 'w' })));

  it('go to the dead letters with onError: dead-letter, and the job goes on', async () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    const keyed = input.stream.keyBy((e) => e.k);
    const sliced = h.output(keyed.window(tumbling(10)).aggregate(count<Ev>(), { uid: 'sliced', onError: 'dead-letter' }).map(flat));
    const general = h.output(keyed.window(tumbling(10)).process(timestampsOf(), { uid: 'general', onError: 'dead-letter' }));
    const dead = h.output<DeadLetter>(h.job.deadLetters());
    h.start();
    input.push(ev('a', 1)).push(ev('a', 2), 2).pushWatermark(9);
    await h.settle();
    expect(sliced.take()).toEqual([['a', 0, 10, 1, 'on-time', false]]);
    expect(general.take()).toEqual([['a', 0, 10, [2], 'on-time', false]]);
    const letters = dead.take();
    expect(letters.map((d) => [d.step, d.error.code, d.record]).sort()).toEqual([
      ['general', 'NO_TIMESTAMP', ev('a', 1)],
      ['sliced', 'NO_TIMESTAMP', ev('a', 1)],
    ]);
    await h.finish();
  });
});
