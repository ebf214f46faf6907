/**
 * Differential tests of the joins: window join, co-group and interval join over two
 * random streams with bounded disorder, against naive nested-loop batch computations,
 * compared as multisets. Every timestamp is at most D behind the highest one before it on
 * its stream, and both sources tolerate D, so no record is late and the streaming answer
 * must equal the batch one exactly. Batch sizes vary so that watermarks interleave with
 * records differently from run to run.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/window/joins.property`.
 */
import fc from 'fast-check';
import { SEED, checkProperty, propertyRuns } from '../property.js';
import { describe, expect, it } from 'vitest';
import { Job } from '../../src/launch/job.js';
import { collectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { ManualClock } from '../../src/time/clock.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { sliding } from '../../src/window/assigners/sliding.js';
import { tumbling } from '../../src/window/assigners/tumbling.js';
import { coGroup, join } from '../../src/api/joins/index.js';
import { IntervalJoinLateCounts } from '../../src/window/join/index.js';

const NUM_RUNS = propertyRuns(40);

/** Runs a property with the run's seed (see test/property.ts). */
const check = <Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>, numRuns = NUM_RUNS) => checkProperty(property, numRuns);

interface Ev {
  k: string;
  ts: number;
  /** Position in its stream: identifies the record in results. */
  i: number;
}

const D = 200;
const strategy = () => WatermarkStrategy.forBoundedOutOfOrderness<Ev>(D).withTimestampAssigner((e) => e.ts);

/**
 * Two streams with bounded disorder, drawn as one: a rising base, each timestamp up to D
 * below it (often exactly D or nearly, so that records arrive just above the watermark,
 * where a buffer cleaned too early would miss them). Each record goes to the left or the
 * right side; a subsequence keeps the bound.
 */
const streams = fc
  .array(
    fc.record({
      side: fc.boolean(),
      k: fc.constantFrom('a', 'b'),
      advance: fc.oneof(fc.constant(0), fc.nat({ max: 40 })),
      back: fc.oneof(fc.constant(0), fc.integer({ min: D - 3, max: D }), fc.nat({ max: D })),
    }),
    { minLength: 1, maxLength: 120, size: 'large' },
  )
  .map((steps) => {
    let base = 1_000;
    const all = steps.map((s) => {
      base += s.advance;
      return { left: s.side, k: s.k, ts: Math.max(0, base - s.back) };
    });
    const pick = (left: boolean): Ev[] => all.filter((e) => e.left === left).map((e, i) => ({ k: e.k, ts: e.ts, i }));
    return { all, left: pick(true), right: pick(false) };
  });

/** Batch size 1 keeps the watermark closest to the records; larger ones let it lag by a batch. */
const batchSize = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 50 }));

/** Two sources (the join's watermark is the lower of theirs), or one source split in two (one watermark for both). */
const layout = fc.constantFrom('two sources', 'one source split');

/** Tumbling (slide = size) or sliding windows. */
const windowShape = fc.oneof(
  fc.constantFrom(100, 250, 400).map((size) => ({ size, slide: size })),
  fc.constantFrom([300, 100], [250, 50], [400, 150], [100, 30]).map(([size, slide]) => ({ size: size!, slide: slide! })),
);

type Drawn = { all: Array<{ left: boolean; k: string; ts: number }>; left: Ev[]; right: Ev[] };

function sources(input: Drawn, batch: number, how: string) {
  const job = new Job({ clock: new ManualClock(0), batchSize: batch });
  if (how === 'two sources') {
    const l = job.source(fromCollection(input.left), { uid: 'left', watermarks: strategy() });
    const r = job.source(fromCollection(input.right), { uid: 'right', watermarks: strategy() });
    return { job, l, r };
  }
  let li = 0;
  let ri = 0;
  const tagged = input.all.map((e) => ({ left: e.left, ev: { k: e.k, ts: e.ts, i: e.left ? li++ : ri++ } }));
  const both = job.source(fromCollection(tagged), {
    uid: 'both',
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness<(typeof tagged)[number]>(D).withTimestampAssigner((e) => e.ev.ts),
  });
  const l = both.filter((e) => e.left).map((e) => e.ev);
  const r = both.filter((e) => !e.left).map((e) => e.ev);
  return { job, l, r };
}

/** The starts of every window [start, start + size) on the grid of `slide` that holds ts. */
function windowStarts(ts: number, size: number, slide: number): number[] {
  const starts: number[] = [];
  for (let s = Math.floor(ts / slide) * slide; s > ts - size; s -= slide) starts.push(s);
  return starts;
}

const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

describe(`joins equal nested-loop batch computations (seed ${SEED})`, () => {
  it('window join: every pair per key and window, stamped with the window end - 1', async () => {
    await check(
      fc.asyncProperty(streams, windowShape, batchSize, layout, async (input, { size, slide }, batch, how) => {
        const { left, right } = input;
        const { job, l, r } = sources(input, batch, how);
        const out = collectSink<[string, number, number]>();
        const assigner = size === slide ? tumbling(size) : sliding(size, slide);
        join(l, r)
          .where((e) => e.k)
          .equalTo((e) => e.k)
          .window(assigner)
          .apply((a, b): [string, number, number] => [a.k, a.i, b.i], { uid: 'join' })
          .sinkTo(out);
        await job.run();
        const streamed = out.records.map(({ value: [k, ai, bi], timestamp }) => [k, timestamp, ai, bi]);

        const expected: unknown[] = [];
        for (const a of left)
          for (const b of right) {
            if (a.k !== b.k) continue;
            const bStarts = new Set(windowStarts(b.ts, size, slide));
            for (const s of windowStarts(a.ts, size, slide)) if (bStarts.has(s)) expected.push([a.k, s + size - 1, a.i, b.i]);
          }
        expect(sorted(streamed)).toEqual(sorted(expected));
      }),
    );
  });

  it('co-group: one call per key and window with a record on either side, one side possibly empty', async () => {
    await check(
      fc.asyncProperty(streams, windowShape, batchSize, layout, async (input, { size, slide }, batch, how) => {
        const { left, right } = input;
        const { job, l, r } = sources(input, batch, how);
        const out = collectSink<unknown>();
        const assigner = size === slide ? tumbling(size) : sliding(size, slide);
        coGroup(l, r)
          .where((e) => e.k)
          .equalTo((e) => e.k)
          .window(assigner)
          .apply(
            (key, as, bs, o, w) => o.collect([key, w.start, w.end, as.map((a) => a.i).sort((x, y) => x - y), bs.map((b) => b.i).sort((x, y) => x - y)]),
            { uid: 'cogroup' },
          )
          .sinkTo(out);
        await job.run();

        const panes = new Map<string, { key: string; start: number; as: number[]; bs: number[] }>();
        const pane = (key: string, start: number) => {
          const id = `${key}|${start}`;
          let p = panes.get(id);
          if (!p) panes.set(id, (p = { key, start, as: [], bs: [] }));
          return p;
        };
        for (const a of left) for (const s of windowStarts(a.ts, size, slide)) pane(a.k, s).as.push(a.i);
        for (const b of right) for (const s of windowStarts(b.ts, size, slide)) pane(b.k, s).bs.push(b.i);
        const expected = [...panes.values()].map((p) => [p.key, p.start, p.start + size, p.as, p.bs]);
        expect(sorted(out.values)).toEqual(sorted(expected));
      }),
    );
  });

  it('interval join: every pair with a.ts + lower <= b.ts <= a.ts + upper (or strictly), at max(a.ts, b.ts)', async () => {
    const bounds = fc
      .record({ lower: fc.integer({ min: -400, max: 300 }), width: fc.nat({ max: 500 }), lowerExclusive: fc.boolean(), upperExclusive: fc.boolean() })
      .filter((b) => b.width > 0 || (!b.lowerExclusive && !b.upperExclusive));
    await check(
      fc.asyncProperty(streams, bounds, batchSize, layout, async (input, { lower, width, lowerExclusive, upperExclusive }, batch, how) => {
        const upper = lower + width;
        const { left, right } = input;
        const { job, l, r } = sources(input, batch, how);
        const out = collectSink<[number, number]>();
        const counts = new IntervalJoinLateCounts();
        let joined = l
          .keyBy((e) => e.k)
          .intervalJoin(r.keyBy((e) => e.k))
          .between(lower, upper);
        if (lowerExclusive) joined = joined.lowerBoundExclusive();
        if (upperExclusive) joined = joined.upperBoundExclusive();
        joined
          .process(
            (a, b, ctx, o) => {
              expect(ctx.leftTimestamp).toBe(a.ts);
              expect(ctx.rightTimestamp).toBe(b.ts);
              expect(ctx.key).toBe(a.k);
              o.collect([a.i, b.i]);
            },
            { uid: 'interval', lateCounts: counts },
          )
          .sinkTo(out);
        await job.run();
        const streamed = out.records.map(({ value: [ai, bi], timestamp }) => [ai, bi, timestamp]);

        const expected: unknown[] = [];
        for (const a of left)
          for (const b of right) {
            if (a.k !== b.k) continue;
            const lo = lowerExclusive ? b.ts > a.ts + lower : b.ts >= a.ts + lower;
            const hi = upperExclusive ? b.ts < a.ts + upper : b.ts <= a.ts + upper;
            if (lo && hi) expected.push([a.i, b.i, Math.max(a.ts, b.ts)]);
          }
        expect(sorted(streamed)).toEqual(sorted(expected));
        expect(counts).toEqual(new IntervalJoinLateCounts());
      }),
    );
  });
});
