/**
 * Two-phase (local-global) aggregation of windows, `aggregate(fn, { uid, preAggregate: true })`:
 * the local step on its own (OperatorHarness), whole jobs against the one-phase aggregate
 * (results, lateness, errors and dead letters), explain(), and the refusals. The
 * differential tests over random streams are in `pre-aggregate.property.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { DataStream } from '../../src/api/data-stream.js';
import type { DeadLetter } from '../../src/runtime/dead-letter-queue.js';
import { Job } from '../../src/launch/job.js';
import { OutputTag } from '../../src/core/output-tag.js';
import { collectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { SluiceError } from '../../src/errors/index.js';
import type { AggregateFunction } from '../../src/state/types.js';
import { OperatorHarness } from '../../src/testing/index.js';
import { ManualClock } from '../../src/time/clock.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { avg, count, sum } from '../../src/window/aggregates/index.js';
import { globalWindows, session, sliding, tumbling, tumblingProcessingTime } from '../../src/window/assigners/index.js';
import { countEvictor } from '../../src/window/evictors/index.js';
import { MAX_PENDING_GROUPS, PreAggregateOperator, isPreAggregated, type PreAggregated } from '../../src/window/pre-aggregate.js';
import { countTrigger, eventTimeTrigger } from '../../src/window/triggers/index.js';
import type { WindowResult } from '../../src/window/window-function.js';
import type { WindowAggregateOptions, WindowedStream } from '../../src/api/windowed-stream.js';

interface Ev {
  k: string;
  v: number;
  ts: number;
  /** A watermark to emit right after this record (punctuated), if any. */
  wm?: number;
}

/** Watermarks only where a record says so (`wm`), so that each record meets a known watermark. */
const punctuated = WatermarkStrategy.forGenerator<Ev>(() => ({
  onEvent: (e, _ts, out) => {
    if (e.wm !== undefined) out.emitWatermark(e.wm);
  },
  onPeriodicEmit: () => {},
})).withTimestampAssigner((e) => e.ts);

const sortRows = <R>(rows: R[]) => rows.map((r) => JSON.stringify(r)).sort();

interface RunOptions {
  batchSize?: number;
  onError?: 'fail' | 'dead-letter';
  watermarks?: WatermarkStrategy<Ev>;
  /** Without timestamps at all (no watermark strategy, a source without timestamps). */
  noTimestamps?: boolean;
}

/**
 * Runs `events` through `apply` on a keyed windowed stream, with or without
 * `preAggregate`; gives the results, the dead letters and the window step's metrics.
 */
async function runOnce<R>(
  preAggregate: boolean,
  events: Ev[],
  window: (s: DataStream<Ev>) => WindowedStream<Ev, string>,
  apply: (ws: WindowedStream<Ev, string>, options: WindowAggregateOptions) => DataStream<R>,
  o: RunOptions = {},
) {
  const job = new Job({ clock: new ManualClock(0), batchSize: o.batchSize ?? 16, onError: o.onError ?? 'fail' });
  const source = o.noTimestamps
    ? job.source(fromCollection(events), { uid: 'events' })
    : job.source(fromCollection(events), { uid: 'events', watermarks: o.watermarks ?? punctuated });
  const out = collectSink<R>();
  apply(window(source), { uid: 'agg', preAggregate }).sinkTo(out);
  const letters = collectSink<DeadLetter>();
  if (o.onError === 'dead-letter') job.deadLetters().sinkTo(letters);
  const started = job.start();
  await started.done;
  const step = started.monitor.metrics.snapshot().steps.find((s) => s.uid === 'agg')!;
  return { values: out.values, letters: letters.values, step };
}

/** {@link runOnce} without (`one`) and with (`two`) pre-aggregation. */
async function both<R>(
  events: Ev[],
  window: (s: DataStream<Ev>) => WindowedStream<Ev, string>,
  apply: (ws: WindowedStream<Ev, string>, options: WindowAggregateOptions) => DataStream<R>,
  o: RunOptions = {},
) {
  return { one: await runOnce(false, events, window, apply, o), two: await runOnce(true, events, window, apply, o) };
}

const byKey = (s: DataStream<Ev>) => s.keyBy((e) => e.k);
const countOf = (ws: WindowedStream<Ev, string>, options: WindowAggregateOptions) => ws.aggregate(count<Ev>(), options);

describe('the local pre-aggregation step', () => {
  const make = () =>
    OperatorHarness.of(new PreAggregateOperator<Ev, string, number>(count<Ev>(), (e) => e.k, { size: 10, slide: 10, offset: 0 })).open();

  /** The local step's output, read: a partial as `key acc @ts`, a record passed through as `k@ts`. */
  const shown = (h: OperatorHarness<Ev, unknown>) =>
    h.output.map(({ value: v, timestamp }) => (isPreAggregated(v) ? `partial ${String(v.key)} ${String(v.acc)} @${timestamp}` : `record ${(v as Ev).k}@${timestamp}`));
  const e = (k: string, ts: number): readonly [Ev, number] => [{ k, v: 0, ts }, ts];

  it('folds records into one partial per key and slice, stamped with its latest timestamp', () => {
    const h = make();
    h.processBatch([e('hot', 3), e('a', 4), e('hot', 7), e('hot', 1), e('hot', 12), e('a', 5), e('b', 6)]);
    expect(shown(h)).toEqual([]); // held until the watermark lets window [0, 10) fire
    h.processWatermark(9);
    expect(shown(h)).toEqual(['partial hot 3 @7', 'partial a 2 @5', 'partial b 1 @6']);
    h.endInput();
    expect(shown(h).slice(3)).toEqual(['partial hot 1 @12']);
    const [hotOne] = h.values as Array<PreAggregated<string, number>>;
    expect(Object.keys(hotOne!).sort()).toEqual(['@sluice/pre-aggregated', 'acc', 'key']); // own fields only: they cross threads
  });

  it('holds partials across batches until the watermark reaches the end of their first window, and sends them before that watermark', () => {
    const seen: string[] = [];
    const op = new PreAggregateOperator<Ev, string, number>(count<Ev>(), (e) => e.k, { size: 10, slide: 10, offset: 0 });
    const h = OperatorHarness.of(op).open();
    // What has been sent when each watermark goes on: the partials must be there first.
    const forward = op.processWatermark.bind(op);
    op.processWatermark = (wm: number) => {
      forward(wm);
      seen.push(`${wm}: ${shown(h).join(', ')}`);
    };
    h.processBatch([e('a', 1), e('a', 2), e('b', 12)]);
    h.processWatermark(2);
    h.processBatch([e('a', 3), e('a', 4), e('b', 13)]);
    h.processWatermark(8);
    h.processWatermark(9);
    h.processBatch([e('b', 14)]);
    h.processWatermark(19);
    expect(seen).toEqual(['2: ', '8: ', '9: partial a 4 @4', '19: partial a 4 @4, partial b 3 @14']);
    expect(h.watermarks).toEqual([2, 8, 9, 19]);
  });

  it('sends everything pending before a checkpoint barrier (so it checkpoints nothing), when its input turns idle, and at the end of input', () => {
    const h = make();
    h.processBatch([e('a', 1), e('a', 2), e('b', 15)]);
    expect(h.snapshot()).toBeUndefined();
    expect(shown(h)).toEqual(['partial a 2 @2', 'partial b 1 @15']);
    h.processBatch([e('a', 3), e('a', 5)]);
    h.processIdle(true);
    expect(shown(h).slice(2)).toEqual(['partial a 2 @5']);
    h.processBatch([e('c', 4)]);
    h.endInput();
    expect(shown(h).slice(3)).toEqual(['partial c 1 @4']);
  });

  it(`sends everything pending when more than MAX_PENDING_GROUPS (key, slice) groups are pending`, () => {
    const h = make();
    const keys = MAX_PENDING_GROUPS + 1;
    const batch: Array<readonly [Ev, number]> = [];
    for (let k = 0; k < keys; k++) batch.push(e(`k${k}`, 1), e(`k${k}`, 2));
    h.processBatch(batch.slice(0, 2 * MAX_PENDING_GROUPS));
    expect(h.output).toHaveLength(0);
    h.processBatch(batch.slice(2 * MAX_PENDING_GROUPS));
    expect(h.output).toHaveLength(keys);
    expect(h.output.every((r) => isPreAggregated(r.value) && r.value.acc === 2)).toBe(true);
  });

  it('passes through unchanged: records without timestamp, with a bad key, whose add throws, and those of a slice whose window reached the watermark', () => {
    const picky: AggregateFunction<Ev, number, number> = {
      ...count<Ev>(),
      add: (e, acc) => {
        if (e.v < 0) throw new Error('negative');
        return acc + 1;
      },
    };
    const h = OperatorHarness.of(
      new PreAggregateOperator<Ev, string, number>(
        picky,
        (e) => {
          if (e.k === 'boom') throw new Error('no key');
          return e.k === 'none' ? (undefined as unknown as string) : e.k;
        },
        { size: 10, slide: 10, offset: 0 },
      ),
    ).open();
    h.processWatermark(9); // window [0, 10) has fired: its records are late, or re-fire it
    const noTs: Ev = { k: 'a', v: 0, ts: 0 };
    const boom: Ev = { k: 'boom', v: 0, ts: 15 };
    const none: Ev = { k: 'none', v: 0, ts: 15 };
    const late: Ev = { k: 'a', v: 0, ts: 5 };
    const negative: Ev = { k: 'a', v: -1, ts: 15 };
    const ok: Ev = { k: 'a', v: 1, ts: 15 };
    h.processBatch([
      [noTs, Number.NaN],
      [boom, 15],
      [none, 15],
      [late, 5],
      [negative, 15],
      [ok, 16],
    ]);
    h.endInput();
    const values = h.values as unknown[];
    expect(values.slice(0, 5)).toEqual([noTs, boom, none, late, negative]);
    expect(values[0]).toBe(noTs); // the record itself, not a copy
    expect(values.slice(5)).toEqual([expect.objectContaining({ key: 'a', acc: 1 })]);
    expect(h.output[5]!.timestamp).toBe(16);
  });

  it('passes through the records in a gap between sliding windows (the window step decides if they are late)', () => {
    // Windows [0, 4), [10, 14), …: slices of 2; 5 and 6 are in the gap.
    const h = OperatorHarness.of(new PreAggregateOperator<Ev, string, number>(count<Ev>(), (e) => e.k, { size: 4, slide: 10, offset: 0 })).open();
    h.processBatch([e('a', 0), e('a', 5), e('a', 1), e('a', 6)]);
    h.endInput();
    expect(shown(h)).toEqual(['record a@5', 'record a@6', 'partial a 2 @1']);
  });

  it('sends no partial for a group whose every add threw (it would make an empty window fire)', () => {
    const failing: AggregateFunction<Ev, number, number> = {
      ...count<Ev>(),
      add: () => {
        throw new Error('always');
      },
    };
    const h = OperatorHarness.of(new PreAggregateOperator<Ev, string, number>(failing, (e) => e.k, { size: 10, slide: 10, offset: 0 })).open();
    const r1: Ev = { k: 'a', v: 1, ts: 1 };
    const r2: Ev = { k: 'a', v: 2, ts: 2 };
    h.processBatch([
      [r1, 1],
      [r2, 2],
    ]);
    h.endInput();
    expect(h.values).toEqual([r1, r2]);
  });
});

describe('preAggregate: the same results as the one-phase aggregate', () => {
  /** A hot key (every other record) and 20 cold ones, timestamps rising with some disorder. */
  const hot: Ev[] = Array.from({ length: 400 }, (_, i) => ({ k: i % 2 === 0 ? 'hot' : `c${i % 20}`, v: i % 7, ts: i * 3 - (i % 5) * 4, wm: i % 9 === 0 ? i * 3 - 30 : undefined }));

  it('tumbling count and sliding avg over a hot key: equal results, and far fewer records into the window step', async () => {
    const { one, two } = await both(hot, (s) => byKey(s).window(tumbling(50)), countOf);
    expect(sortRows(two.values)).toEqual(sortRows(one.values));
    expect(one.values.length).toBeGreaterThan(0);
    // Batches of 64 with watermarks per batch: a partial per key and window of each batch.
    const monotonous = { batchSize: 64, watermarks: WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts) };
    const onlyHot = hot.map((e, i) => ({ ...e, k: 'hot', ts: i }));
    const counted = await both(onlyHot, (s) => byKey(s).window(tumbling(50)), countOf, monotonous);
    expect(sortRows(counted.two.values)).toEqual(sortRows(counted.one.values));
    expect(counted.one.step.recordsIn).toBe(400);
    expect(counted.two.step.recordsIn).toBeLessThanOrEqual(400 / 64 + 400 / 50 + 1);
    const avgs = await both(hot, (s) => byKey(s).window(sliding(60, 20)), (ws, o) => ws.aggregate(avg<Ev>('v'), o));
    expect(sortRows(avgs.two.values)).toEqual(sortRows(avgs.one.values));
  });

  it('reduce, windowAll, and aggregate with a window function', async () => {
    const reduced = await both(hot, (s) => byKey(s).window(sliding(40, 10)), (ws, o) => ws.reduce((a, b) => ({ ...a, v: a.v + b.v, ts: Math.max(a.ts, b.ts) }), o));
    expect(sortRows(reduced.two.values.map((r) => [r.key, r.start, r.value.v]))).toEqual(sortRows(reduced.one.values.map((r) => [r.key, r.start, r.value.v])));
    const all = await both(hot, (s) => s.windowAll(tumbling<Ev>(100)) as unknown as WindowedStream<Ev, string>, (ws, o) => ws.aggregate(sum<Ev>('v'), o));
    expect(sortRows(all.two.values)).toEqual(sortRows(all.one.values));
    expect(all.two.values.every((r) => r.key === null)).toBe(true);
    const withFn = await both(hot, (s) => byKey(s).window(tumbling(30)), (ws, o) =>
      ws.aggregate<number, number, string>(count<Ev>(), { process: (key, ctx, [n], out) => out.collect(`${key}@${ctx.window.start}:${n}:${ctx.timing}`) }, o),
    );
    expect(withFn.two.values.sort()).toEqual(withFn.one.values.sort());
  });

  it('late records: dropped and counted one by one, and within the allowed lateness each re-fires its windows, as without pre-aggregation', async () => {
    const events: Ev[] = [
      { k: 'a', v: 1, ts: 1 },
      { k: 'a', v: 1, ts: 2 },
      { k: 'b', v: 1, ts: 12, wm: 10 }, // [0, 10) fires with a: 2
      { k: 'a', v: 1, ts: 3 }, // within the lateness: re-fires [0, 10)
      { k: 'a', v: 1, ts: 4 }, // and again
      { k: 'a', v: 1, ts: 15, wm: 22 }, // [0, 10) is gone for good (end - 1 + lateness <= 22), [10, 20) fires
      { k: 'a', v: 1, ts: 5 }, // beyond the lateness: dropped
      { k: 'a', v: 1, ts: 6 }, // dropped
      { k: 'b', v: 1, ts: 18 }, // within the lateness of [10, 20): re-fires it for b
    ];
    const run = (ws: WindowedStream<Ev, string>, o: WindowAggregateOptions) => ws.allowedLateness(5).aggregate(count<Ev>(), o);
    for (const batchSize of [1, 16]) {
      const { one, two } = await both(events, (s) => byKey(s).window(tumbling(10)), run, { batchSize });
      expect(two.values).toEqual(one.values);
      expect(one.values.filter((r) => r.key === 'a' && r.start === 0).map((r: WindowResult<string, number>) => [r.value, r.timing, r.isUpdate])).toEqual([
        [2, 'on-time', false],
        [3, 'late', true],
        [4, 'late', true],
      ]);
      expect(two.step.lateDropped).toBe(2);
      expect(one.step.lateDropped).toBe(2);
    }
  });

  it('a throwing key selector: the same dead letters, from the window step', async () => {
    const events: Ev[] = Array.from({ length: 30 }, (_, i) => ({ k: i % 7 === 3 ? 'bad' : `k${i % 3}`, v: i, ts: i }));
    const keyed = (s: DataStream<Ev>) =>
      s
        .keyBy((e) => {
          if (e.k === 'bad') throw new Error(`no key for ${e.v}`);
          return e.k;
        })
        .window(tumbling(10));
    const { one, two } = await both(events, keyed, countOf, { onError: 'dead-letter' });
    expect(sortRows(two.values)).toEqual(sortRows(one.values));
    expect(one.letters).toHaveLength(4);
    expect(two.letters).toEqual(one.letters);
    expect(two.letters[0]).toMatchObject({ step: 'agg', error: { code: 'USER_FUNCTION_FAILED' }, timestamp: 3 });
  });

  it('a throwing key selector under the fail policy: the same error, naming the window step', async () => {
    const events: Ev[] = [
      { k: 'a', v: 1, ts: 1 },
      { k: 'bad', v: 2, ts: 2 },
    ];
    const keyed = (s: DataStream<Ev>) =>
      s
        .keyBy((e) => {
          if (e.k === 'bad') throw new Error('no key');
          return e.k;
        })
        .window(tumbling(10));
    const errors = await Promise.all([false, true].map((p) => runOnce(p, events, keyed, countOf).catch((e: unknown) => e)));
    for (const e of errors) {
      expect(e).toBeInstanceOf(SluiceError);
      expect((e as SluiceError).message).toContain("step 'agg' (window): the window step threw Error: no key on record");
    }
  });

  it('records without timestamp: NO_TIMESTAMP dead letters from the window step, as without pre-aggregation', async () => {
    const events: Ev[] = Array.from({ length: 5 }, (_, i) => ({ k: 'a', v: i, ts: i }));
    const { one, two } = await both(events, (s) => byKey(s).window(tumbling(10)), countOf, { onError: 'dead-letter', noTimestamps: true });
    expect(one.letters.map((l) => l.error.code)).toEqual(Array(5).fill('NO_TIMESTAMP'));
    expect(two.letters).toEqual(one.letters);
    expect(two.values).toEqual([]);
  });

  it('an add that throws (sum of a field that is not a number): the same dead letters, and no empty window', async () => {
    const events: Ev[] = [
      { k: 'a', v: 1, ts: 1 },
      { k: 'a', v: 'x' as unknown as number, ts: 2 },
      { k: 'b', v: 'y' as unknown as number, ts: 3 },
    ];
    const { one, two } = await both(events, (s) => byKey(s).window(tumbling(10)), (ws, o) => ws.aggregate(sum<Ev>('v'), o), { onError: 'dead-letter' });
    expect(one.letters.map((l) => [l.step, l.error.code])).toEqual([
      ['agg', 'BAD_RECORD'],
      ['agg', 'BAD_RECORD'],
    ]);
    expect(two.letters).toEqual(one.letters);
    expect(two.values).toEqual(one.values);
    expect(two.values.map((r) => r.key)).toEqual(['a']);
  });
});

describe('preAggregate in the plan', () => {
  /** explain() of a pre-aggregated count at the job's parallelism. */
  const planOf = (parallelism?: number) => {
    const job = new Job({ name: 'hot', parallelism });
    job
      .source(fromCollection<Ev>([]), { uid: 'events', watermarks: punctuated })
      .keyBy((e) => e.k)
      .window(tumbling(60_000))
      .aggregate(count<Ev>(), { uid: 'counts', preAggregate: true })
      .sinkTo(collectSink());
    return job.explain();
  };

  it('explain() shows the local step chained to its input, then the keyed window step', () => {
    const plan = planOf();
    expect(plan).toMatch(/counts\.pre-aggregate\s+pre-aggregate\s+partial accumulators per key and 60000ms slice, for 'counts'/);
    expect(plan).toMatch(/counts\s+window\s+tumbling 60000ms, aggregate, sliced, pre-aggregated keyed {2}\[stateful\]/);
    // At parallelism 1 the exchange is a forward one: one task, the local step right after the watermarks.
    expect(plan.split('\n').filter((l) => l.startsWith('task'))).toHaveLength(1);
    const steps = plan.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)[0]);
    expect(steps).toEqual(['events', 'watermarks-1', 'counts.pre-aggregate', 'counts', 'sink-1']);
  });

  it('at parallelism 2 the local step runs at its input’s parallelism, and the window step after a hash exchange', () => {
    const plan = planOf(2);
    const tasks = plan.split('task ').slice(1);
    expect(tasks[0]).toMatch(/^1 x2\n {2}events .*\n {2}watermarks-1 .*\n {2}counts\.pre-aggregate /);
    expect(tasks[1]).toMatch(/^2 x2 {2}<- hash from 'counts\.pre-aggregate'\n {2}counts +window/);
  });
});

describe('preAggregate refusals', () => {
  const job = () => new Job();
  const stream = () => job().source(fromCollection<Ev>([]), { uid: 'events', watermarks: punctuated }).keyBy((e) => e.k);
  const refused = (f: () => unknown, reason: RegExp) => {
    let error: unknown;
    try {
      f();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SluiceError);
    const e = error as SluiceError;
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(reason);
    expect(e.hint).toMatch(/preAggregate/);
    expect(e.step).toBe('agg');
  };
  const opts = { uid: 'agg', preAggregate: true };

  it('an aggregate function without merge', () => {
    const noMerge: AggregateFunction<Ev, number, number> = { createAccumulator: () => 0, add: (_e, a) => a + 1, getResult: (a) => a };
    refused(() => stream().window(tumbling(10)).aggregate(noMerge, opts), /step 'agg': aggregate\(\) with preAggregate: the aggregate function has no merge\(\)/);
  });

  it('windows that are not aligned event-time windows: session, processing time, global (count windows)', () => {
    refused(() => stream().window(session(10)).aggregate(count<Ev>(), opts), /session.*depends on the key's other records/);
    refused(() => stream().window(tumblingProcessingTime(10)).aggregate(count<Ev>(), opts), /processing-time window is chosen by the clock/);
    refused(() => stream().window(globalWindows<Ev>()).trigger(countTrigger(3)).aggregate(count<Ev>(), opts), /not aligned/);
    refused(() => stream().countWindow(3).aggregate(count<Ev>(), opts), /not aligned/);
  });

  it('a custom trigger, an evictor, a late-data side output', () => {
    refused(() => stream().window(tumbling(10)).trigger(eventTimeTrigger()).aggregate(count<Ev>(), opts), /custom trigger/);
    refused(() => stream().window(tumbling(10)).evictor(countEvictor(2)).aggregate(count<Ev>(), opts), /evictor/);
    refused(() => stream().window(tumbling(10)).sideOutputLateData(new OutputTag<Ev>('late')).aggregate(count<Ev>(), opts), /late-data side output/);
    refused(() => stream().window(tumbling(10)).sideOutputLateData(new OutputTag<Ev>('late')).reduce((a) => a, opts), /reduce\(\) with preAggregate: the late-data side output/);
  });

  it('a preAggregate that is not a boolean, and a missing uid, before any step is added', () => {
    const j = job();
    const s = j.source(fromCollection<Ev>([]), { uid: 'events' }).keyBy((e) => e.k);
    expect(() => s.window(tumbling(10)).aggregate(count<Ev>(), { uid: 'agg', preAggregate: 'yes' as unknown as boolean })).toThrow(/preAggregate must be true or false/);
    expect(() => s.window(tumbling(10)).aggregate(count<Ev>(), { preAggregate: true } as WindowAggregateOptions)).toThrow(/a window step has no uid/);
    expect(j.graph.nodes.map((n) => n.kind)).toEqual(['source']);
  });

  it('off unless asked: preAggregate false (or absent) builds the one-phase step', () => {
    const j = new Job();
    const s = j.source(fromCollection<Ev>([]), { uid: 'events', watermarks: punctuated }).keyBy((e) => e.k);
    s.window(tumbling(10)).aggregate(count<Ev>(), { uid: 'a', preAggregate: false });
    s.window(tumbling(10)).aggregate(count<Ev>(), { uid: 'b' });
    expect(j.graph.nodes.map((n) => n.kind)).toEqual(['source', 'watermarks', 'window', 'window']);
  });
});
