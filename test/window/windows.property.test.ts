/**
 * Differential tests of windows: every window kind, through both operators (the sliced
 * one for aligned windows with reduce/aggregate and the default trigger, the general one
 * otherwise), against the naive batch reference in `reference.ts`, over random streams
 * with bounded disorder.
 *
 * (1) No record is late (the watermark delay D' covers the disorder D): the results, as
 *     multisets of {key, start, end, value}, equal the reference's, and the late-data
 *     side output stays empty.
 * (2) Records later than the allowed lateness, with watermarks pushed by hand so that the
 *     watermark each record meets is known: the late side output holds exactly the late
 *     records, and every window's firings (values, isUpdate, timing) are those of a
 *     step-by-step replay of Flink's rules.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/window`.
 */
import fc from 'fast-check';
import { SEED, checkProperty, propertyRuns } from '../property.js';
import { describe, expect, it } from 'vitest';
import type { DataStream } from '../../src/api/data-stream.js';
import { Job } from '../../src/launch/job.js';
import { OutputTag } from '../../src/core/output-tag.js';
import { collectSink, type CollectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { JobHarness, type TestOutput } from '../../src/testing/index.js';
import { ManualClock } from '../../src/time/clock.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { count, sum } from '../../src/window/aggregates/index.js';
import { dynamicSession, globalWindows, session, sliding, tumbling } from '../../src/window/assigners/index.js';
import { mergeTimeWindows } from '../../src/window/assigners/session.js';
import type { Window } from '../../src/window/window.js';
import { countTrigger, eventTimeTrigger, purging } from '../../src/window/triggers/index.js';
import type { WindowAssigner } from '../../src/window/assigner.js';
import type { WindowResult } from '../../src/window/window-function.js';
import type { WindowedStream } from '../../src/api/windowed-stream.js';
import {
  alignedReference,
  countReference,
  globalCountReference,
  lateAlignedReference,
  sessionReference,
  type Pane,
  type RefKey,
  type Step,
} from './reference.js';

const NUM_RUNS = propertyRuns(40);

/** Runs a property with the run's seed (see test/property.ts). */
const check = <Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>, numRuns = NUM_RUNS) => checkProperty(property, numRuns);

interface Ev {
  k: string;
  v: number;
  ts: number;
  /** Position in the input: identifies the record. */
  i: number;
}

/** A window result flattened for comparison. */
interface Row {
  key: RefKey;
  start: number;
  end: number;
  value: string;
}
const rowId = (r: Row) => JSON.stringify([r.key, r.start, r.end, r.value]);
const multiset = (rows: Row[]) => rows.map(rowId).sort();

// ---- the window functions under test, and what each gives for a window's records ----

type FnName = 'reduce' | 'count' | 'sum' | 'process' | 'count+window-fn';
const FNS: FnName[] = ['reduce', 'count', 'sum', 'process', 'count+window-fn'];

/** Sum of v and smallest position: commutative and associative, so the order within a window does not matter. */
const sumReduce = (a: Ev, b: Ev): Ev => ({ k: a.k, v: a.v + b.v, ts: Math.max(a.ts, b.ts), i: Math.min(a.i, b.i) });

function expectedValue(fn: FnName, records: Ev[]): string {
  switch (fn) {
    case 'reduce':
      return `${records.reduce((s, e) => s + e.v, 0)}:${Math.min(...records.map((e) => e.i))}`;
    case 'count':
    case 'count+window-fn':
      return String(records.length);
    case 'sum':
      return String(records.reduce((s, e) => s + e.v, 0));
    case 'process':
      return records
        .map((e) => e.i)
        .sort((a, b) => a - b)
        .join(',');
  }
}

interface Firing extends Row {
  isUpdate: boolean;
  timing: string;
}

const resultRow = (r: WindowResult<RefKey, unknown>, value: string): Firing => ({ key: r.key, start: r.start, end: r.end, value, isUpdate: r.isUpdate, timing: r.timing });

/**
 * Applies `fn` to the windowed stream as step `uid`: its results as rows with firing
 * info, and its late-data side output `lateTag`.
 */
function apply(ws: WindowedStream<Ev, any, any>, fn: FnName, uid: string, keyed: boolean, lateTag: OutputTag<Ev>): { results: DataStream<Firing>; late: DataStream<Ev> } {
  const keyOf = (k: unknown): RefKey => (keyed ? (k as RefKey) : null);
  const step = (s: DataStream<any>, toRow?: (r: any) => Firing) => ({ results: toRow ? s.map(toRow) : s, late: s.sideOutput(lateTag) });
  switch (fn) {
    case 'reduce':
      return step(ws.reduce(sumReduce, { uid }), (r: WindowResult<RefKey, Ev>) => resultRow(r, `${r.value.v}:${r.value.i}`));
    case 'count':
      return step(ws.aggregate(count<Ev>(), { uid }), (r: WindowResult<RefKey, number>) => resultRow(r, String(r.value)));
    case 'sum':
      return step(ws.aggregate(sum<Ev>((e) => e.v), { uid }), (r: WindowResult<RefKey, number>) => resultRow(r, String(r.value)));
    case 'process':
      return step(
        ws.process<Firing>(
          {
            process: (key, ctx, elements, out) =>
              out.collect({
                key: keyOf(key),
                start: ctx.window.start,
                end: ctx.window.end,
                value: elements
                  .map((e) => e.i)
                  .sort((a, b) => a - b)
                  .join(','),
                isUpdate: ctx.isUpdate,
                timing: ctx.timing,
              }),
          },
          { uid },
        ),
      );
    case 'count+window-fn':
      return step(
        ws.aggregate<number, number, Firing>(
          count<Ev>(),
          {
            process: (key, ctx, [n], out) =>
              out.collect({ key: keyOf(key), start: ctx.window.start, end: ctx.window.end, value: String(n), isUpdate: ctx.isUpdate, timing: ctx.timing }),
          },
          { uid },
        ),
      );
  }
}

// ---- (1) no late records: equal to the batch reference ----

/** Random events with disorder at most D: each timestamp is at least the highest before it minus D. */
const streams = fc.integer({ min: 0, max: 25 }).chain((D) =>
  fc
    .array(
      fc.record({
        k: fc.constantFrom('a', 'b', 'c'),
        v: fc.integer({ min: -20, max: 20 }),
        advance: fc.nat({ max: 12 }),
        back: fc.nat({ max: D }),
      }),
      { maxLength: 70 },
    )
    .map((steps) => {
      // A rising base; each timestamp at most D below it, so at least (highest timestamp so far) - D.
      let base = -40;
      const events = steps.map((s, i): Ev => {
        base += s.advance;
        return { k: s.k, v: s.v, ts: base - s.back, i };
      });
      return { D, events };
    }),
);

interface Kind {
  readonly name: string;
  /** Cuts the stream into windows (keyed, or all when `keyed` is false). */
  window(s: DataStream<Ev>, keyed: boolean): WindowedStream<Ev, any, any>;
  reference(events: Ev[], keyOf: (e: Ev) => RefKey): Pane<Ev>[];
  /** Sessions need D' > D: see the note at `sessionKinds`. */
  readonly strictDelay?: boolean;
}

/** Keyed by `k`, or windowAll. */
const win = (s: DataStream<Ev>, keyed: boolean, assigner: WindowAssigner<Ev>): WindowedStream<Ev, any, any> =>
  keyed ? s.keyBy((e) => e.k).window(assigner) : s.windowAll(assigner);

/**
 * Runs `kind` with every function in one job (and, with `forceGeneral`, again with an
 * explicit event-time trigger, which takes aligned windows off the sliced operator) and
 * compares each step's results with the reference.
 */
async function compare(kind: Kind, keyed: boolean, events: Ev[], D: number, extraDelay: number, batchSize: number, forceGeneral: boolean): Promise<void> {
  const job = new Job({ clock: new ManualClock(0), batchSize });
  const delay = D + extraDelay + (kind.strictDelay ? 1 : 0);
  const source = job.source(fromCollection(events), {
    uid: 'events',
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Ev>(delay).withTimestampAssigner((e) => e.ts),
  });
  const lateTag = new OutputTag<Ev>('late');
  const sinks: Array<{ fn: FnName; uid: string; out: CollectSink<Firing>; late: CollectSink<Ev> }> = [];
  for (const general of forceGeneral ? [false, true] : [false]) {
    for (const fn of FNS) {
      const uid = `${fn}${general ? '-general' : ''}`;
      let ws = kind.window(source, keyed);
      if (general) ws = ws.trigger(eventTimeTrigger());
      const { results, late: lateStream } = apply(ws.sideOutputLateData(lateTag), fn, uid, keyed, lateTag);
      const out = collectSink<Firing>();
      const late = collectSink<Ev>();
      results.sinkTo(out);
      lateStream.sinkTo(late);
      sinks.push({ fn, uid, out, late });
    }
  }
  await job.run();
  const panes = kind.reference(events, keyed ? (e) => e.k : () => null);
  for (const { fn, uid, out, late } of sinks) {
    const expected = panes.map((p) => ({ key: p.key, start: p.start, end: p.end, value: expectedValue(fn, p.records) }));
    const actual = out.values.map(({ key, start, end, value }) => ({ key, start, end, value }));
    expect(multiset(actual), `${kind.name} ${keyed ? 'keyed' : 'windowAll'} step '${uid}'`).toEqual(multiset(expected));
    expect(late.values, `step '${uid}': nothing is late`).toEqual([]);
    // Time windows fire once each; a count-triggered global window that is not purged re-fires as updates.
    if (!kind.name.startsWith('count')) for (const r of out.values) expect(r.isUpdate, `step '${uid}': nothing re-fires`).toBe(false);
  }
}

const alignedKinds = fc.oneof(
  fc.integer({ min: 1, max: 30 }).map((size): Kind => ({
    name: `tumbling(${size})`,
    window: (s, keyed) => win(s, keyed, tumbling(size)),
    reference: (events, keyOf) => alignedReference(events, keyOf, size, size),
  })),
  fc
    .integer({ min: 2, max: 30 })
    .chain((size) => fc.record({ size: fc.constant(size), offset: fc.integer({ min: -(size - 1), max: size - 1 }) }))
    .map(({ size, offset }): Kind => ({
      name: `tumbling(${size}).withOffset(${offset})`,
      window: (s, keyed) => win(s, keyed, tumbling(size).withOffset(offset)),
      reference: (events, keyOf) => alignedReference(events, keyOf, size, size, offset),
    })),
  fc.record({ slide: fc.integer({ min: 1, max: 12 }), m: fc.integer({ min: 1, max: 5 }) }).map(({ slide, m }): Kind => ({
    name: `sliding(${slide * m}, ${slide})`,
    window: (s, keyed) => win(s, keyed, sliding(slide * m, slide)),
    reference: (events, keyOf) => alignedReference(events, keyOf, slide * m, slide),
  })),
  // Size not a multiple of the slide (slices of gcd(size, slide)), and size < slide (gaps), with offsets.
  fc
    .record({ size: fc.integer({ min: 1, max: 25 }), slide: fc.integer({ min: 1, max: 12 }), r: fc.double({ min: 0, max: 0.99, noNaN: true }) })
    .map(({ size, slide, r }): Kind => {
      const offset = Math.floor(r * slide);
      return {
        name: `sliding(${size}, ${slide}).withOffset(${offset})`,
        window: (s, keyed) => win(s, keyed, sliding(size, slide).withOffset(offset)),
        reference: (events, keyOf) => alignedReference(events, keyOf, size, slide, offset),
      };
    }),
  // Gaps: a record between two windows belongs to none, and is not late (Flink drops it silently).
  fc
    .integer({ min: 2, max: 12 })
    .chain((slide) => fc.record({ slide: fc.constant(slide), size: fc.integer({ min: 1, max: slide - 1 }) }))
    .map(({ size, slide }): Kind => ({
      name: `sliding(${size}, ${slide})`,
      window: (s, keyed) => win(s, keyed, sliding(size, slide)),
      reference: (events, keyOf) => alignedReference(events, keyOf, size, slide),
    })),
  fc.constant<Kind>({
    name: 'sliding(5, 3)',
    window: (s, keyed) => win(s, keyed, sliding(5, 3)),
    reference: (events, keyOf) => alignedReference(events, keyOf, 5, 3),
  }),
);

/**
 * Sessions. D' > D strictly: with D' = D the watermark can reach a session's last
 * timestamp `end - 1` (so it fires and, without allowed lateness, is dropped) while a
 * record at exactly `end` may still come, which would have merged with it (windows that
 * touch merge). That is Flink's behaviour too; the unit tests pin it.
 */
const gapOf = (e: Ev) => 1 + (Math.abs(e.v) % 9);
const sessionKinds = fc.oneof(
  fc.integer({ min: 1, max: 25 }).map((gap): Kind => ({
    name: `session(${gap})`,
    strictDelay: true,
    window: (s, keyed) => win(s, keyed, session(gap)),
    reference: (events, keyOf) => sessionReference(events, keyOf, () => gap),
  })),
  // Another merging assigner with the same windows: the operator's generic merging path.
  fc.integer({ min: 1, max: 25 }).map((gap): Kind => ({
    name: `session(${gap}) merged generically`,
    strictDelay: true,
    window: (s, keyed) => win(s, keyed, { ...session<Ev>(gap), mergeWindows: (ws: readonly Window[]) => mergeTimeWindows(ws) }),
    reference: (events, keyOf) => sessionReference(events, keyOf, () => gap),
  })),
  fc.constant<Kind>({
    name: 'dynamicSession(1 + |v| % 9)',
    strictDelay: true,
    window: (s, keyed) => win(s, keyed, dynamicSession(gapOf)),
    reference: (events, keyOf) => sessionReference(events, keyOf, gapOf),
  }),
);

const countKinds = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((size): Kind => ({
    name: `countWindow(${size})`,
    window: (s, keyed) => (keyed ? s.keyBy((e) => e.k).countWindow(size) : s.windowAll(globalWindows<Ev>()).trigger(purging(countTrigger(size)))),
    reference: (events, keyOf) => countReference(events, keyOf, size),
  })),
  fc.record({ size: fc.integer({ min: 1, max: 6 }), slide: fc.integer({ min: 1, max: 6 }) }).map(({ size, slide }): Kind => ({
    name: `countWindow(${size}, ${slide})`,
    window: (s, keyed) => (keyed ? s.keyBy((e) => e.k).countWindow(size, slide) : s.keyBy(() => 0).countWindow(size, slide).asWindowAll()),
    reference: (events, keyOf) => countReference(events, keyOf, size, slide),
  })),
  fc.record({ n: fc.integer({ min: 1, max: 6 }), purge: fc.boolean() }).map(({ n, purge }): Kind => ({
    name: `count global window, ${purge ? 'purging ' : ''}countTrigger(${n})`,
    window: (s, keyed) => win(s, keyed, globalWindows<Ev>()).trigger(purge ? purging(countTrigger(n)) : countTrigger(n)),
    reference: (events, keyOf) => globalCountReference(events, keyOf, n, purge),
  })),
);

const batchSize = fc.integer({ min: 1, max: 64 });
const extraDelay = fc.nat({ max: 4 });

describe(`windows equal a batch reference when nothing is late (seed ${SEED})`, () => {
  it('tumbling and sliding, keyed: sliced and general operators', async () => {
    await check(
      fc.asyncProperty(alignedKinds, streams, extraDelay, batchSize, async (kind, { D, events }, extra, bs) => {
        await compare(kind, true, events, D, extra, bs, true);
      }),
    );
  });

  it('tumbling and sliding, windowAll', async () => {
    await check(
      fc.asyncProperty(alignedKinds, streams, extraDelay, batchSize, async (kind, { D, events }, extra, bs) => {
        await compare(kind, false, events, D, extra, bs, false);
      }),
      Math.ceil(NUM_RUNS / 2),
    );
  });

  it('session and dynamic session, keyed and windowAll', async () => {
    await check(
      fc.asyncProperty(sessionKinds, fc.boolean(), streams, extraDelay, batchSize, async (kind, keyed, { D, events }, extra, bs) => {
        await compare(kind, keyed, events, D, extra, bs, false);
      }),
    );
  });

  it('count windows (tumbling, sliding) and the global window with a count trigger, keyed and windowAll', async () => {
    await check(
      fc.asyncProperty(countKinds, fc.boolean(), streams, batchSize, async (kind, keyed, { D, events }, bs) => {
        await compare(kind, keyed, events, D, 0, bs, false);
      }),
    );
  });
});

// ---- (2) late records: exactly the late ones go to the side output; firings replay Flink's rules ----

interface Aligned {
  readonly name: string;
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}
const alignedSpecs = fc.oneof(
  fc.integer({ min: 1, max: 20 }).map((size): Aligned => ({ name: `tumbling(${size})`, size, slide: size, offset: 0 })),
  fc.record({ slide: fc.integer({ min: 1, max: 10 }), m: fc.integer({ min: 2, max: 4 }) }).map(({ slide, m }): Aligned => ({ name: `sliding(${slide * m}, ${slide})`, size: slide * m, slide, offset: 0 })),
  fc
    .record({ size: fc.integer({ min: 1, max: 20 }), slide: fc.integer({ min: 1, max: 10 }), r: fc.double({ min: 0, max: 0.99, noNaN: true }) })
    .map(({ size, slide, r }): Aligned => ({ name: `sliding(${size}, ${slide}).withOffset(${Math.floor(r * slide)})`, size, slide, offset: Math.floor(r * slide) })),
  fc
    .integer({ min: 2, max: 12 })
    .chain((slide) => fc.record({ slide: fc.constant(slide), size: fc.integer({ min: 1, max: slide - 1 }) }))
    .map(({ size, slide }): Aligned => ({ name: `sliding(${size}, ${slide}) with gaps`, size, slide, offset: 0 })),
);

/** Records around a rising watermark: up to 30 behind it (late, perhaps beyond the lateness) or 15 ahead. */
const lateStreams = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ k: fc.constantFrom('a', 'b'), v: fc.integer({ min: -9, max: 9 }), delta: fc.integer({ min: -30, max: 15 }) }) },
      { weight: 1, arbitrary: fc.record({ advance: fc.nat({ max: 15 }) }) },
    ),
    { maxLength: 60 },
  )
  .map((raw) => {
    let wm = 0;
    let i = 0;
    return raw.map((s): Step<Ev> => {
      if ('advance' in s) {
        wm += s.advance;
        return { watermark: wm };
      }
      return { record: { k: s.k, v: s.v, ts: wm + s.delta, i: i++ } };
    });
  });

describe(`late records go to the side output, and windows re-fire within the allowed lateness (seed ${SEED})`, () => {
  it('tumbling and sliding, through the sliced and the general operator', async () => {
    await check(
      fc.asyncProperty(alignedSpecs, lateStreams, fc.nat({ max: 15 }), fc.integer({ min: 1, max: 64 }), async (spec, steps, lateness, bs) => {
        const h = new JobHarness({ batchSize: bs });
        const input = h.input<Ev>('events');
        const assigner = () => (spec.slide === spec.size ? tumbling<Ev>(spec.size).withOffset(spec.offset) : sliding<Ev>(spec.size, spec.slide).withOffset(spec.offset));
        const outs: Array<{ fn: FnName; uid: string; out: TestOutput<Firing>; late: TestOutput<Ev> }> = [];
        for (const general of [false, true]) {
          for (const fn of FNS) {
            const uid = `${fn}${general ? '-general' : ''}`;
            const tag = new OutputTag<Ev>(`late-${uid}`);
            let ws = input.stream
              .keyBy((e) => e.k)
              .window(assigner())
              .allowedLateness(lateness)
              .sideOutputLateData(tag);
            if (general) ws = ws.trigger(eventTimeTrigger());
            const { results, late } = apply(ws, fn, uid, true, tag);
            outs.push({ fn, uid, out: h.output(results), late: h.output(late) });
          }
        }
        h.start();
        for (const s of steps) {
          if ('watermark' in s) input.pushWatermark(s.watermark);
          else input.push(s.record, s.record.ts);
        }
        await h.finish();

        const ref = lateAlignedReference(steps, (e) => e.k, spec.size, spec.slide, spec.offset, lateness);
        for (const { fn, uid, out, late } of outs) {
          const what = `${spec.name} lateness ${lateness} step '${uid}'`;
          expect(
            late.values.map((e) => e.i),
            `${what}: the late records`,
          ).toEqual(ref.late.map((e) => e.i));
          const actual = new Map<string, Array<{ value: string; isUpdate: boolean; timing: string }>>();
          for (const r of out.values) {
            const id = JSON.stringify([r.key, r.start]);
            const list = actual.get(id) ?? [];
            list.push({ value: r.value, isUpdate: r.isUpdate, timing: r.timing });
            actual.set(id, list);
            expect(r.end - r.start).toBe(spec.size);
          }
          const expected = new Map<string, Array<{ value: string; isUpdate: boolean; timing: string }>>();
          for (const [id, p] of ref.firings) {
            expected.set(
              id,
              p.emissions.map((e) => ({ value: expectedValue(fn, e.records), isUpdate: e.isUpdate, timing: e.timing })),
            );
          }
          expect(new Map([...actual].sort()), `${what}: the firings of each window`).toEqual(new Map([...expected].sort()));
        }
      }),
    );
  });
});
