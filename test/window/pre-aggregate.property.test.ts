/**
 * Differential tests of two-phase aggregation (`preAggregate: true`): over seeded random
 * streams with a hot key, the pre-aggregated window step gives the one-phase step's
 * results, firing for firing, and both equal the naive batch reference (`reference.ts`).
 * Real jobs (fromCollection, collect sinks, parallelism 1), tumbling and sliding windows
 * (offsets, sizes not a multiple of the slide, gaps), count/sum/avg/min/max and reduce.
 *
 * (1) Nothing late (the watermark delay covers the disorder): results as multisets equal
 *     the reference's panes.
 * (2) Watermarks placed by hand between records, allowed lateness: every window's firings
 *     (values, isUpdate, timing) replay Flink's rules (`lateAlignedReference`), and the
 *     late-dropped count is the number of late records, with or without pre-aggregation.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/window/pre-aggregate`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataStream } from '../../src/api/data-stream.js';
import { Job } from '../../src/launch/job.js';
import { collectSink, type CollectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { ManualClock } from '../../src/time/clock.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { avg, count, max, min, sum } from '../../src/window/aggregates/index.js';
import { sliding, tumbling } from '../../src/window/assigners/index.js';
import type { WindowAssigner } from '../../src/window/assigner.js';
import type { WindowResult } from '../../src/window/window-function.js';
import type { WindowAggregateOptions, WindowedStream } from '../../src/api/windowed-stream.js';
import { SEED, checkProperty, propertyRuns } from '../property.js';
import { alignedReference, lateAlignedReference, type Step } from './reference.js';

const NUM_RUNS = propertyRuns(40);

interface Ev {
  k: string;
  v: number;
  ts: number;
  /** Position in the input. */
  i: number;
  /** A watermark to emit right after this record, if any. */
  wm?: number;
}

// ---- the functions under test, and what each gives for a window's records ----

type FnName = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'reduce';
const FNS: readonly FnName[] = ['count', 'sum', 'avg', 'min', 'max', 'reduce'];

function expected(fn: FnName, records: readonly Ev[]): string {
  const vs = records.map((e) => e.v);
  const total = vs.reduce((a, b) => a + b, 0);
  switch (fn) {
    case 'count':
      return String(vs.length);
    case 'sum':
    case 'reduce':
      return String(total);
    case 'avg':
      return String(total / vs.length);
    case 'min':
      return String(Math.min(...vs));
    case 'max':
      return String(Math.max(...vs));
  }
}

function apply(ws: WindowedStream<Ev, string>, fn: FnName, options: WindowAggregateOptions): DataStream<WindowResult<string, string>> {
  const text = (r: WindowResult<string, unknown>): WindowResult<string, string> => ({ ...r, value: String(r.value) });
  switch (fn) {
    case 'count':
      return ws.aggregate(count<Ev>(), options).map(text);
    case 'sum':
      return ws.aggregate(sum<Ev>('v'), options).map(text);
    case 'avg':
      return ws.aggregate(avg<Ev>('v'), options).map(text);
    case 'min':
      return ws.aggregate(min<Ev>('v'), options).map(text);
    case 'max':
      return ws.aggregate(max<Ev>('v'), options).map(text);
    case 'reduce':
      return ws.reduce((a, b) => ({ ...a, v: a.v + b.v }), options).map((r) => ({ ...r, value: String(r.value.v) }));
  }
}

// ---- windows ----

interface Aligned {
  readonly name: string;
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}
const assignerOf = (a: Aligned): WindowAssigner<Ev> => (a.slide === a.size ? tumbling<Ev>(a.size).withOffset(a.offset) : sliding<Ev>(a.size, a.slide).withOffset(a.offset));

const aligned = fc.oneof(
  fc
    .integer({ min: 1, max: 30 })
    .chain((size) => fc.record({ size: fc.constant(size), offset: fc.integer({ min: -(size - 1), max: size - 1 }) }))
    .map(({ size, offset }): Aligned => ({ name: `tumbling(${size}).withOffset(${offset})`, size, slide: size, offset })),
  fc.record({ slide: fc.integer({ min: 1, max: 12 }), m: fc.integer({ min: 2, max: 5 }) }).map(({ slide, m }): Aligned => ({ name: `sliding(${slide * m}, ${slide})`, size: slide * m, slide, offset: 0 })),
  // Sizes not a multiple of the slide (slices of gcd), and size < slide (gaps), with offsets.
  fc
    .record({ size: fc.integer({ min: 1, max: 25 }), slide: fc.integer({ min: 1, max: 12 }), r: fc.double({ min: 0, max: 0.99, noNaN: true }) })
    .map(({ size, slide, r }): Aligned => ({ name: `sliding(${size}, ${slide}).withOffset(${Math.floor(r * slide)})`, size, slide, offset: Math.floor(r * slide) })),
);

// ---- streams: a hot key (about half the records) and ten cold ones ----

const keys = fc.oneof({ weight: 1, arbitrary: fc.constant('hot') }, { weight: 1, arbitrary: fc.constantFrom(...Array.from({ length: 10 }, (_, i) => `k${i}`)) });

/** Bounded disorder D: each timestamp at least the highest before it minus D. */
const orderedStreams = fc.integer({ min: 0, max: 25 }).chain((D) =>
  fc
    .array(fc.record({ k: keys, v: fc.integer({ min: -50, max: 50 }), advance: fc.nat({ max: 4 }), back: fc.nat({ max: D }) }), { maxLength: 200, size: 'max' })
    .map((steps) => {
      let base = -40;
      return { D, events: steps.map((s, i): Ev => ({ k: s.k, v: s.v, ts: (base += s.advance) - s.back, i })) };
    }),
);

/** Records around a rising watermark: up to 30 behind it (late, perhaps beyond the lateness) or 15 ahead. */
const lateSteps = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ k: keys, v: fc.integer({ min: -9, max: 9 }), delta: fc.integer({ min: -30, max: 15 }) }) },
      { weight: 1, arbitrary: fc.record({ advance: fc.nat({ max: 15 }) }) },
    ),
    { maxLength: 160, size: 'max' },
  )
  .map((raw) => {
    let wm = 0;
    let i = 0;
    const steps: Step<Ev>[] = [];
    for (const s of raw) {
      if ('advance' in s) {
        wm += s.advance;
        // A watermark rides on the record before it; one before any record is dropped.
        const last = steps.at(-1);
        if (last && 'record' in last) steps.push({ watermark: wm });
      } else {
        steps.push({ record: { k: s.k, v: s.v, ts: wm + s.delta, i: i++ } });
      }
    }
    return steps;
  });

/** The records of `steps`, each carrying the watermark that follows it (the latest, when several do). */
function recordsOf(steps: readonly Step<Ev>[]): Ev[] {
  const out: Ev[] = [];
  for (const s of steps) {
    if ('record' in s) out.push({ ...s.record });
    else out[out.length - 1]!.wm = s.watermark;
  }
  return out;
}

/** Watermarks where the records say: each record meets a known watermark. */
const punctuated = WatermarkStrategy.forGenerator<Ev>(() => ({
  onEvent: (e, _ts, out) => {
    if (e.wm !== undefined) out.emitWatermark(e.wm);
  },
  onPeriodicEmit: () => {},
})).withTimestampAssigner((e) => e.ts);

interface Sinks {
  readonly fn: FnName;
  readonly preAggregate: boolean;
  readonly uid: string;
  readonly out: CollectSink<WindowResult<string, string>>;
}

/** One job: every function, with and without pre-aggregation, over the same source. Gives each step's results and late-dropped count. */
async function runAll(events: Ev[], spec: Aligned, lateness: number, batchSize: number, watermarks: WatermarkStrategy<Ev>) {
  const job = new Job({ clock: new ManualClock(0), batchSize });
  const source = job.source(fromCollection(events), { uid: 'events', watermarks });
  const sinks: Sinks[] = [];
  for (const fn of FNS) {
    for (const preAggregate of [false, true]) {
      const uid = `${fn}${preAggregate ? '-pre' : ''}`;
      const out = collectSink<WindowResult<string, string>>();
      apply(source.keyBy((e) => e.k).window(assignerOf(spec)).allowedLateness(lateness), fn, { uid, preAggregate }).sinkTo(out);
      sinks.push({ fn, preAggregate, uid, out });
    }
  }
  const started = job.start();
  await started.done;
  const steps = started.monitor.metrics.snapshot().steps;
  return sinks.map((s) => ({ ...s, values: s.out.values, lateDropped: steps.find((m) => m.uid === s.uid)!.lateDropped }));
}

/** Each window's firings in order, by window. */
function firingsByWindow(rows: readonly WindowResult<string, string>[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) {
    const id = JSON.stringify([r.key, r.start, r.end]);
    const list = m.get(id) ?? [];
    list.push(`${r.value} ${r.timing}${r.isUpdate ? ' update' : ''}`);
    m.set(id, list);
  }
  return new Map([...m].sort());
}

describe(`pre-aggregated windows equal the one-phase ones and a batch reference (seed ${SEED})`, () => {
  it('nothing late: tumbling and sliding over a hot key, every aggregate', async () => {
    await checkProperty(
      fc.asyncProperty(aligned, orderedStreams, fc.nat({ max: 4 }), fc.integer({ min: 1, max: 64 }), async (spec, { D, events }, extra, bs) => {
        const watermarks = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(D + extra).withTimestampAssigner((e) => e.ts);
        const runs = await runAll(events, spec, 0, bs, watermarks);
        const panes = alignedReference(events, (e) => e.k, spec.size, spec.slide, spec.offset);
        for (const fn of FNS) {
          const one = runs.find((r) => r.fn === fn && !r.preAggregate)!;
          const two = runs.find((r) => r.fn === fn && r.preAggregate)!;
          const what = `${spec.name}, batches of ${bs}, ${fn}`;
          expect(firingsByWindow(two.values), `${what}: pre-aggregated = one-phase`).toEqual(firingsByWindow(one.values));
          const reference = panes.map((p) => ({ key: p.key as string, start: p.start, end: p.end, value: expected(fn, p.records), timing: 'on-time' as const, isUpdate: false }));
          expect(firingsByWindow(two.values), `${what}: = reference`).toEqual(firingsByWindow(reference));
          expect([one.lateDropped, two.lateDropped], `${what}: nothing late`).toEqual([0, 0]);
        }
      }),
      NUM_RUNS,
    );
  });

  it('late records and allowed lateness: the same firings (values, timing, updates) and late counts as the one-phase step and Flink’s rules', async () => {
    await checkProperty(
      fc.asyncProperty(aligned, lateSteps, fc.nat({ max: 15 }), fc.integer({ min: 1, max: 64 }), async (spec, steps, lateness, bs) => {
        const events = recordsOf(steps);
        const runs = await runAll(events, spec, lateness, bs, punctuated);
        const ref = lateAlignedReference(steps, (e) => e.k, spec.size, spec.slide, spec.offset, lateness);
        for (const fn of FNS) {
          const one = runs.find((r) => r.fn === fn && !r.preAggregate)!;
          const two = runs.find((r) => r.fn === fn && r.preAggregate)!;
          const what = `${spec.name}, lateness ${lateness}, batches of ${bs}, ${fn}`;
          expect(firingsByWindow(two.values), `${what}: pre-aggregated = one-phase`).toEqual(firingsByWindow(one.values));
          const reference = [...ref.firings.values()].flatMap((p) =>
            p.emissions.map((e) => ({ key: p.key as string, start: p.start, end: p.end, value: expected(fn, e.records), timing: e.timing, isUpdate: e.isUpdate })),
          );
          expect(firingsByWindow(two.values), `${what}: = reference`).toEqual(firingsByWindow(reference));
          expect(two.lateDropped, `${what}: late records dropped`).toBe(ref.late.length);
          expect(one.lateDropped).toBe(ref.late.length);
        }
      }),
      NUM_RUNS,
    );
  });
});
