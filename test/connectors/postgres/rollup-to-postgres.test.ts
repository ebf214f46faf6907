/**
 * A rollup end to end: each level upserted into its own time-partitioned PostgreSQL table
 * through a job that runs exactly-once, fails once and restarts from its checkpoints, over
 * records late beyond the watermark but within the allowed lateness (so buckets are
 * corrected after they were first written). Every table ends equal to a GROUP BY of the records.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rollup, type RollupRow } from '../../../src/api/rollup.js';
import { generator } from '../../../src/connectors/generator/index.js';
import { postgresTimeSeriesSink } from '../../../src/connectors/postgres/index.js';
import { Job } from '../../../src/launch/job.js';
import { WatermarkStrategy } from '../../../src/time/watermark-strategy.js';
import { count, sum } from '../../../src/window/aggregates/index.js';

const run = `sluice_rollup_${randomUUID().slice(0, 8)}`;
const db = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
beforeAll(() => db.connect());
afterAll(async () => {
  for (const l of ['1m', '1h']) await db.query(`DROP TABLE IF EXISTS ${run}_${l} CASCADE`);
  await db.query(`DELETE FROM sluice_sink_checkpoints WHERE sink LIKE '${run}%'`).catch(() => {});
  await db.end();
});

interface Ev {
  sensor: string;
  t: number;
  v: number;
}
const T0 = Date.UTC(2026, 0, 1);
const N = 3000;
// Five sensors, a record every 2 s; every 7th record is 90 s late (beyond the 10 s watermark delay, within the 5 min lateness).
const ev = (i: number): Ev => ({ sensor: `s${i % 5}`, t: T0 + i * 2000 - (i % 7 === 0 ? 90_000 : 0), v: (i * 37) % 101 });

it('every level, upserted into its own table through a job that fails once, equals a GROUP BY of the records', async () => {
  let failed = false;
  let restarts = 0;
  const job = new Job({
    name: 'rollup-to-postgres',
    batchSize: 64,
    checkpoints: { interval: '10ms', dir: join(mkdtempSync(join(tmpdir(), 'sluice-rollup-')), 'cp') },
    delivery: 'exactly-once',
    restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
  });
  const events = job
    .source(generator({ make: ev, count: N, timestamp: (e) => e.t }), { uid: 'events', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Ev>('10s').withTimestampAssigner((e) => e.t) })
    .map((e) => {
      if (e.sensor === 's0' && e.t > T0 + 4000 * 1000 && !failed) {
        failed = true;
        throw new Error('injected failure');
      }
      return e;
    });
  const r = rollup(events, { uid: 'temps', key: 'sensor', levels: ['1m', '1h'], allowedLateness: '5m', aggregates: { n: count(), total: sum<Ev>('v') } });
  r.sinkTo((level) =>
    postgresTimeSeriesSink<RollupRow<string, { n: number; total: number }>>({
      table: `${run}_${level}`,
      columns: { sensor: 'text', bucket: 'timestamptz', n: 'integer', total: 'double precision' },
      series: ['sensor'],
      time: 'bucket',
      row: (row) => [row.key, row.start, row.values.n, row.values.total],
      partition: '1d',
    }),
  );
  await job.start({ onRestart: () => restarts++ }).done;
  expect(restarts).toBe(1);

  const all = Array.from({ length: N }, (_, i) => ev(i));
  for (const [level, size] of [
    ['1m', 60_000],
    ['1h', 3_600_000],
  ] as const) {
    const expected = new Map<string, { n: number; total: number }>();
    for (const e of all) {
      const id = `${e.sensor}@${Math.floor(e.t / size) * size}`;
      const g = expected.get(id) ?? { n: 0, total: 0 };
      g.n++;
      g.total += e.v;
      expected.set(id, g);
    }
    const { rows } = await db.query(`SELECT sensor, (extract(epoch FROM bucket) * 1000)::float8 AS b, n, total FROM ${run}_${level}`);
    const actual = new Map(rows.map((r) => [`${r.sensor}@${r.b}`, { n: r.n, total: r.total }]));
    expect(actual, `level ${level}`).toEqual(expected);
  }
}, 60_000);
