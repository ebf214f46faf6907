/**
 * Rollups against DuckDB: every level's current rows (the last row per key and bucket,
 * corrections applied as upserts) equal a batch GROUP BY over the records the rollup took
 * (all but those beyond the allowed lateness, which go to the late-data output), over
 * random streams around a hand-pushed watermark: records behind it within the allowed
 * lateness re-fire their buckets at every level.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/window/rollup`.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollup, type RollupRow } from '../../src/api/rollup.js';
import { OutputTag } from '../../src/core/output-tag.js';
import { compareRows } from '../../src/nexmark/reconcile.js';
import { JobHarness } from '../../src/testing/index.js';
import { avg, count, max, min, sum } from '../../src/window/aggregates/index.js';
import type { Duration } from '../../src/time/duration.js';
import { SEED, checkProperty, propertyRuns } from '../property.js';

interface Ev {
  k: string;
  v: number;
  ts: number;
  i: number;
}
const aggregates = { n: count(), total: sum<Ev>('v'), lo: min<Ev>('v'), hi: max<Ev>('v'), mean: avg<Ev>('v') };
type Values = { n: number; total: number; lo: number; hi: number; mean: number };
const COLUMNS = ['key', 'start', 'end', 'n', 'total', 'lo', 'hi', 'mean'];

let instance: DuckDBInstance;
let db: DuckDBConnection;
beforeAll(async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
});
afterAll(() => {
  db?.closeSync();
  instance?.closeSync();
});

/** The batch answer of one level: GROUP BY key and bucket over `events`, in DuckDB. */
async function batchLevel(events: Ev[], size: number): Promise<Record<string, unknown>[]> {
  if (events.length === 0) return [];
  const values = events.map((e) => `('${e.k}', ${e.v}, ${e.ts})`).join(', ');
  await db.run(`CREATE OR REPLACE TEMP TABLE events AS SELECT * FROM (VALUES ${values}) t(k, v, ts)`);
  const reader = await db.runAndReadAll(
    `SELECT k AS key, (ts // ${size}) * ${size} AS start, (ts // ${size}) * ${size} + ${size} AS "end",
            count(*) AS n, sum(v)::DOUBLE AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean
     FROM events GROUP BY ALL`,
  );
  return reader.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([c, v]) => [c, typeof v === 'bigint' ? Number(v) : v])));
}

type Step = { watermark: number } | { record: Ev };

/** Records around a rising watermark: up to `behind` ms behind it (late, perhaps beyond the lateness) or 3 s ahead. */
const streams = (behind: number) =>
  fc
    .array(
      fc.oneof(
        { weight: 5, arbitrary: fc.record({ k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: -50, max: 50 }), delta: fc.integer({ min: -behind, max: 3000 }) }) },
        { weight: 1, arbitrary: fc.record({ advance: fc.integer({ min: 1, max: 20_000 }) }) },
      ),
      { maxLength: 120 },
    )
    .map((raw) => {
      let wm = 0;
      let i = 0;
      return raw.map((s): Step => {
        if ('advance' in s) return { watermark: (wm += s.advance) };
        return { record: { k: s.k, v: s.v, ts: Math.max(0, wm + s.delta), i: i++ } };
      });
    });

async function run(levels: Duration[], sizes: number[], lateness: number, steps: Step[], batchSize: number) {
  const h = new JobHarness({ batchSize });
  const input = h.input<Ev>('events');
  const lateTag = new OutputTag<Ev>('too-late');
  const r = rollup(input.stream, { uid: 'r', key: 'k', levels, aggregates, allowedLateness: lateness, lateData: lateTag });
  const outs = r.levels.map((l) => h.output(r.level(l)));
  // The late-data output is a side output of the finest level's window step.
  const late = h.output(r.late());
  h.start();
  for (const s of steps) {
    if ('watermark' in s) input.pushWatermark(s.watermark);
    else input.push(s.record, s.record.ts);
  }
  await h.finish();

  // Each late record really was beyond the allowed lateness when it came.
  const lateIds = new Set(late.values.map((e) => e.i));
  let wm = Number.NEGATIVE_INFINITY;
  for (const s of steps) {
    if ('watermark' in s) wm = s.watermark;
    else if (lateIds.has(s.record.i)) {
      const bucketEnd = Math.floor(s.record.ts / sizes[0]!) * sizes[0]! + sizes[0]!;
      expect(bucketEnd - 1 + lateness <= wm, `record ${JSON.stringify(s.record)} went to late data at watermark ${wm}`).toBe(true);
    }
  }
  const taken = steps.flatMap((s) => ('record' in s && !lateIds.has(s.record.i) ? [s.record] : []));

  for (let l = 0; l < levels.length; l++) {
    const rows = outs[l]!.values as RollupRow<string, Values>[];
    // The first row of a bucket is new, every later one an update of it.
    const seen = new Set<string>();
    const current = new Map<string, Record<string, unknown>>();
    for (const row of rows) {
      const id = JSON.stringify([row.key, row.start]);
      expect(row.isUpdate, `level ${levels[l]} bucket ${id}`).toBe(seen.has(id));
      expect(row.level).toBe(r.levels[l]);
      seen.add(id);
      current.set(id, { key: row.key, start: row.start, end: row.end, ...row.values });
    }
    const batch = await batchLevel(taken, sizes[l]!);
    const { equal, diff } = compareRows([...current.values()], batch, COLUMNS);
    expect(equal, `level ${levels[l]}, lateness ${lateness}:\n${diff}`).toBe(true);
  }
  return { late: late.values.length, updates: outs.map((o) => o.values.filter((r) => r.isUpdate).length) };
}

describe(`rollup levels equal DuckDB's GROUP BY of the same records (seed ${SEED})`, () => {
  it('1s / 10s / 1m over random disorder, with late records within and beyond the allowed lateness', async () => {
    await checkProperty(
      fc.asyncProperty(fc.constantFrom(0, 1000, 5000, 30_000), streams(40_000), fc.integer({ min: 1, max: 64 }), async (lateness, steps, bs) => {
        await run(['1s', '10s', '1m'], [1000, 10_000, 60_000], lateness, steps, bs);
      }),
      propertyRuns(30),
    );
  });

  it('1m / 1h / 1d: a record within the allowed lateness corrects its bucket at every level, as updates', async () => {
    const m = 60_000;
    const steps: Step[] = [
      { record: { k: 'a', v: 5, ts: 30 * m, i: 0 } },
      { record: { k: 'a', v: 7, ts: 31 * m, i: 1 } },
      { watermark: 2 * 24 * 60 * m }, // every bucket of day 0 fired
      { record: { k: 'a', v: 1, ts: 2 * 24 * 60 * m - 10 * m, i: 2 } }, // 10 minutes late: within the lateness
      { record: { k: 'a', v: 100, ts: 30 * m + 1, i: 3 } }, // a day and more late: beyond it
      { record: { k: 'a', v: 2, ts: 2 * 24 * 60 * m - 10 * m + 5, i: 4 } }, // the same minute as record 2
    ];
    const { late, updates } = await run(['1m', '1h', '1d'], [m, 60 * m, 24 * 60 * m], 15 * m, steps, 8);
    expect(late).toBe(1);
    // Record 2 opens its (already closed) minute, hour and day as new rows; record 4 corrects all three.
    expect(updates).toEqual([1, 1, 1]);
  });

  it('refuses levels that are not finest first, each a whole multiple of the one before', () => {
    const h = new JobHarness();
    const input = h.input<Ev>('events');
    expect(() => rollup(input.stream, { uid: 'r', key: 'k', levels: ['1h', '1m'], aggregates })).toThrow(/not a larger whole multiple/);
    expect(() => rollup(input.stream, { uid: 'r', key: 'k', levels: ['1m', '90s'], aggregates })).toThrow(/not a larger whole multiple/);
    expect(() => rollup(input.stream, { uid: 'r', key: 'k', levels: [], aggregates })).toThrow(/at least one/);
    expect(() => rollup(input.stream, { uid: 'r', key: 'k', levels: ['1m'], aggregates: { p: { createAccumulator: () => 0, add: (_: Ev, a: number) => a, getResult: (a: number) => a } } })).toThrow(/has no merge/);
  });
});
