/**
 * Differential tests: keyed streaming results against a plain batch computation over
 * random streams with bounded disorder. Every timestamp is at most D behind the highest
 * one before it, and the watermark strategy tolerates D, so no record is late and the
 * streaming answer must equal the batch one exactly.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/api/keyed-stream.property.test.ts`.
 */
import fc from 'fast-check';
import { SEED, checkProperty, propertyRuns } from '../property.js';
import { describe, expect, it } from 'vitest';
import { Job } from '../../src/launch/job.js';
import type { KeyedProcessFunction } from '../../src/core/functions.js';
import { collectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { valueState } from '../../src/state/descriptors.js';
import type { ValueState } from '../../src/state/types.js';
import { ManualClock } from '../../src/time/clock.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';

const NUM_RUNS = propertyRuns(60);

/** Runs a property with the run's seed (see test/property.ts). */
const check = <Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>, numRuns = NUM_RUNS) => checkProperty(property, numRuns);

interface Ev {
  k: string;
  v: number;
  ts: number;
  /** Position in the input (ties broken by arrival order). */
  i: number;
}

/** The most a timestamp may be behind the highest timestamp before it. */
const D = 250;
const strategy = () => WatermarkStrategy.forBoundedOutOfOrderness<Ev>(D).withTimestampAssigner((e) => e.ts);

/** Random events with bounded disorder: a rising base, each timestamp up to D below it. */
const events = fc
  .array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      v: fc.integer({ min: -50, max: 50 }),
      advance: fc.nat({ max: 400 }),
      back: fc.nat({ max: D }),
    }),
    { maxLength: 80 },
  )
  .map((steps) => {
    let base = 1_000;
    return steps.map((s, i): Ev => {
      base += s.advance;
      return { k: s.k, v: s.v, ts: Math.max(0, base - s.back), i };
    });
  });

const batchSizes = fc.constantFrom(1, 3, 1024);

function newJob(batchSize: number): Job {
  return new Job({ clock: new ManualClock(0), batchSize });
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const list = m.get(key(x)) ?? [];
    list.push(x);
    m.set(key(x), list);
  }
  return m;
}

// ---- (1) running reduce / aggregate against batch prefix folds ----

interface Acc {
  k: string;
  sum: number;
  /** Order-sensitive: a different arrival order gives a different hash. */
  hash: number;
  n: number;
}
const lift = (e: Ev): Acc => ({ k: e.k, sum: e.v, hash: ((e.v % 997) + 997) % 997, n: 1 });
const combine = (a: Acc, b: Acc): Acc => ({ k: b.k, sum: a.sum + b.sum, hash: (a.hash * 31 + b.hash) % 1_000_003, n: a.n + b.n });

async function runningReduce(input: Ev[], batchSize: number): Promise<Acc[]> {
  const job = newJob(batchSize);
  const out = collectSink<Acc>();
  job.source(fromCollection(input), { uid: 'events', watermarks: strategy() }).map(lift).keyBy('k').reduce(combine, { uid: 'fold' }).sinkTo(out);
  await job.run();
  return out.values;
}

type Stats = { n: number; sum: number; min: number; max: number };
async function runningAggregate(input: Ev[], batchSize: number): Promise<Array<[string, Stats]>> {
  const job = newJob(batchSize);
  const out = collectSink<[string, Stats]>();
  job
    .source(fromCollection(input), { uid: 'events', watermarks: strategy() })
    .keyBy((e) => e.k)
    .aggregate<{ k: string; s: Stats }, [string, Stats]>(
      {
        createAccumulator: () => ({ k: '', s: { n: 0, sum: 0, min: Infinity, max: -Infinity } }),
        add: (e, a) => ({ k: e.k, s: { n: a.s.n + 1, sum: a.s.sum + e.v, min: Math.min(a.s.min, e.v), max: Math.max(a.s.max, e.v) } }),
        getResult: (a) => [a.k, a.s],
      },
      { uid: 'stats' },
    )
    .sinkTo(out);
  await job.run();
  return out.values;
}

describe(`keyed processing equals a batch computation (seed ${SEED})`, () => {
  it('(1) reduce: per key, the running results are the batch prefix folds, the last one the batch fold', async () => {
    await check(
      fc.asyncProperty(events, batchSizes, async (input, batchSize) => {
        const streamed = await runningReduce(input, batchSize);
        expect(streamed).toHaveLength(input.length);
        const byKeyIn = groupBy(input, (e) => e.k);
        const byKeyOut = groupBy(streamed, (a) => a.k);
        expect([...byKeyOut.keys()].sort()).toEqual([...byKeyIn.keys()].sort());
        for (const [k, evs] of byKeyIn) {
          const prefixes: Acc[] = [];
          for (const e of evs) prefixes.push(prefixes.length === 0 ? lift(e) : combine(prefixes[prefixes.length - 1]!, lift(e)));
          expect(byKeyOut.get(k)).toEqual(prefixes);
          expect(byKeyOut.get(k)!.at(-1)).toEqual(evs.map(lift).reduce(combine));
        }
      }),
    );
  });

  it('(1) aggregate: per key, the running results are the batch prefix aggregates', async () => {
    await check(
      fc.asyncProperty(events, batchSizes, async (input, batchSize) => {
        const streamed = await runningAggregate(input, batchSize);
        const byKeyOut = groupBy(streamed, ([k]) => k);
        for (const [k, evs] of groupBy(input, (e) => e.k)) {
          const expected: Stats[] = [];
          let s: Stats = { n: 0, sum: 0, min: Infinity, max: -Infinity };
          for (const e of evs) {
            s = { n: s.n + 1, sum: s.sum + e.v, min: Math.min(s.min, e.v), max: Math.max(s.max, e.v) };
            expected.push(s);
          }
          expect(byKeyOut.get(k)!.map(([, st]) => st)).toEqual(expected);
        }
      }),
    );
  });

  // ---- (2) + (3): per-key counts in 1 s event-time buckets, emitted by timers ----

  const BUCKET = 1000;
  type Count = [key: string, bucket: number, count: number];

  /** Counts per key and bucket; a timer at each bucket's end emits and forgets the count. */
  function bucketCounter(log: { fired: number[]; late: number }): KeyedProcessFunction<string, Ev, Count> {
    let counts!: ValueState<Record<number, number>>;
    return {
      open(ctx) {
        counts = ctx.state(valueState<Record<number, number>>('counts'));
      },
      processElement(e, ctx) {
        if (ctx.timestamp === undefined || ctx.timestamp <= ctx.currentWatermark()) log.late++;
        const bucket = Math.floor(e.ts / BUCKET);
        const before = counts.value() ?? {};
        counts.update({ ...before, [bucket]: (before[bucket] ?? 0) + 1 });
        ctx.timerService.registerEventTimeTimer((bucket + 1) * BUCKET - 1);
      },
      onTimer(ts, ctx, out) {
        log.fired.push(ts);
        if (ctx.currentWatermark() < ts) log.late++; // fired before the watermark reached it
        const bucket = (ts + 1) / BUCKET - 1;
        const { [bucket]: n, ...rest } = counts.value() ?? {};
        out.collect([ctx.key, bucket, n ?? 0]);
        if (Object.keys(rest).length === 0) counts.clear();
        else counts.update(rest);
      },
    };
  }

  async function bucketCounts(input: Ev[], batchSize: number, split?: boolean[]) {
    const job = newJob(batchSize);
    const out = collectSink<Count>();
    const log = { fired: [] as number[], late: 0 };
    let stream = job.source(fromCollection(split ? input.filter((_, i) => !split[i]) : input), { uid: 'events', watermarks: strategy() });
    if (split) {
      const other = job.source(fromCollection(input.filter((_, i) => split[i])), { uid: 'more-events', watermarks: strategy() });
      stream = stream.union(other);
    }
    stream.keyBy((e) => e.k).process(bucketCounter(log), { uid: 'per-bucket' }).sinkTo(out);
    await job.run();
    return { counts: out.values, timestamps: out.timestamps, log };
  }

  function batchCounts(input: Ev[]): Count[] {
    const m = new Map<string, Count>();
    for (const e of input) {
      const bucket = Math.floor(e.ts / BUCKET);
      const id = `${e.k}/${bucket}`;
      const c = m.get(id) ?? [e.k, bucket, 0];
      c[2]++;
      m.set(id, c);
    }
    return sortCounts([...m.values()]);
  }
  const sortCounts = (cs: Count[]): Count[] => [...cs].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  it('(2) timers over keyed state: counts per (key, 1 s bucket) equal a batch group-by; (3) timers fire in timestamp order', async () => {
    await check(
      fc.asyncProperty(events, batchSizes, async (input, batchSize) => {
        const { counts, timestamps, log } = await bucketCounts(input, batchSize);
        expect(log.late).toBe(0);
        expect(sortCounts(counts)).toEqual(batchCounts(input));
        // each result carries its timer's timestamp: the bucket's last millisecond
        counts.forEach(([, bucket], j) => expect(timestamps[j]).toBe((bucket + 1) * BUCKET - 1));
        // (3) non-decreasing timestamps across the operator's timers
        for (let j = 1; j < log.fired.length; j++) expect(log.fired[j]).toBeGreaterThanOrEqual(log.fired[j - 1]!);
      }),
    );
  });

  it('(2) the same holds when the events arrive through a union of two sources (channels, watermark valve)', async () => {
    await check(
      fc.asyncProperty(
        events.chain((input) => fc.tuple(fc.constant(input), fc.array(fc.boolean(), { minLength: input.length, maxLength: input.length }))),
        batchSizes,
        async ([input, split], batchSize) => {
          const { counts, log } = await bucketCounts(input, batchSize, split);
          expect(log.late).toBe(0);
          expect(sortCounts(counts)).toEqual(batchCounts(input));
          for (let j = 1; j < log.fired.length; j++) expect(log.fired[j]).toBeGreaterThanOrEqual(log.fired[j - 1]!);
        },
      ),
    );
  });

  // ---- (4) batch size does not change results ----

  it('(4) batch sizes 1, 3 and 1024 give identical results', async () => {
    await check(
      fc.asyncProperty(events, async (input) => {
        const reduces = await Promise.all([1, 3, 1024].map((b) => runningReduce(input, b)));
        expect(reduces[1]).toEqual(reduces[0]);
        expect(reduces[2]).toEqual(reduces[0]);
        const buckets = await Promise.all([1, 3, 1024].map(async (b) => sortCounts((await bucketCounts(input, b)).counts)));
        expect(buckets[1]).toEqual(buckets[0]);
        expect(buckets[2]).toEqual(buckets[0]);
      }),
    );
  });
});
