import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeSink, testSinkContext } from '../../../src/testing/index.js';
import { postgresTimeSeriesSink } from '../../../src/connectors/postgres/index.js';
import { ManualClock } from '../../../src/time/clock.js';
import type { Duration } from '../../../src/time/duration.js';

const run = `sluice_ts_${randomUUID().slice(0, 8)}`;
const db = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
const tables: string[] = [];
beforeAll(() => db.connect());
afterAll(async () => {
  for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t} CASCADE`);
  await db.query(`DELETE FROM sluice_sink_checkpoints WHERE sink LIKE '${run}%'`).catch(() => {});
  await db.end();
});
let seq = 0;
const freshName = () => {
  const t = `${run}_${seq++}`;
  tables.push(t);
  return t;
};

interface Point {
  sensor: string;
  t: number;
  value: number;
}
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
// Three series, points an hour (and a few ms) apart across several daily partitions.
const make = (i: number): Point => ({ sensor: `s${i % 3}`, t: T0 + Math.floor(i / 3) * 3_600_000 + (i % 7), value: i });
const sinkOver = (table: string, extra: { retention?: Duration } = {}) =>
  postgresTimeSeriesSink<Point>({
    table,
    columns: { sensor: 'text', t: 'timestamptz', value: 'double precision' },
    series: ['sensor'],
    time: 't',
    row: (p) => [p.sensor, p.t, p.value],
    partition: '1d',
    batchSize: 100,
    ...extra,
  });
const readAll = async (table: string) => (await db.query(`SELECT sensor, (extract(epoch FROM t) * 1000)::float8 AS t, value FROM ${table}`)).rows as Point[];
const partitionsOf = async (table: string) =>
  (await db.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [table])).rows.map((r) => r.relname as string);

describeSink<Point>('postgresTimeSeriesSink', {
  kind: 'idempotent',
  make,
  count: 300,
  prepare: async () => {
    const table = freshName();
    return { sink: sinkOver(table), read: () => readAll(table) };
  },
});

it('upserts by (series, time) into daily partitions made as rows reach them', async () => {
  const table = freshName();
  const w = sinkOver(table).createWriter(testSinkContext({ uid: 'u', transactional: true }));
  await w.open!();
  await w.write([make(0), make(3), { sensor: 's0', t: T0, value: -1 }, make(100)], [0, 0, 0, 0]);
  await w.preCommit!(1);
  expect((await readAll(table)).sort((a, b) => a.t - b.t)).toEqual([{ sensor: 's0', t: T0, value: -1 }, make(3), make(100)]);
  // Record 100 is 33 hours in: two days, two partitions.
  expect(await partitionsOf(table)).toEqual([`${table}_p${T0 / 1000}`, `${table}_p${(T0 + DAY) / 1000}`]);
  await w.write([{ sensor: 's0', t: T0, value: 42 }], [0]);
  await w.preCommit!(2);
  expect((await db.query(`SELECT value FROM ${table} WHERE sensor = 's0' AND t = $1`, [new Date(T0).toISOString()])).rows).toEqual([{ value: 42 }]);
  await w.close();
});

it('retention drops whole partitions that ended longer ago than declared, by the job clock', async () => {
  const table = freshName();
  const points = Array.from({ length: 5 * 24 }, (_, h) => ({ sensor: 'a', t: T0 + h * 3_600_000, value: h })); // days 0..4
  const w1 = sinkOver(table).createWriter(testSinkContext({ uid: 'u', transactional: true }));
  await w1.open!();
  await w1.write(points, points.map(() => 0));
  await w1.preCommit!(1);
  await w1.close();
  expect(await partitionsOf(table)).toHaveLength(5);

  // Now is the middle of day 5; a retention of 3 days keeps partitions that end after day 2.5: days 2, 3, 4.
  const clock = new ManualClock(T0 + 5.5 * DAY);
  const w2 = sinkOver(table, { retention: '3d' }).createWriter(testSinkContext({ uid: 'u', transactional: true, clock }));
  await w2.open!();
  expect(await partitionsOf(table)).toEqual([2, 3, 4].map((d) => `${table}_p${(T0 + d * DAY) / 1000}`));
  expect((await readAll(table)).map((p) => p.value).sort((a, b) => a - b)).toEqual(points.filter((p) => p.t >= T0 + 2 * DAY).map((p) => p.value));
  // A day later (past the once-a-minute pacing), the next checkpoint drops day 2 too.
  clock.advance(DAY);
  await w2.write([{ sensor: 'a', t: T0 + 5 * DAY, value: 0 }], [0]);
  await w2.preCommit!(2);
  expect(await partitionsOf(table)).toEqual([3, 4, 5].map((d) => `${table}_p${(T0 + d * DAY) / 1000}`));
  await w2.close();
});

it('refuses a bad time with BAD_RECORD, and a non-timestamptz time column when built', async () => {
  const table = freshName();
  const w = sinkOver(table).createWriter(testSinkContext({ uid: 'u', transactional: true }));
  await w.open!();
  expect(() => w.write([{ sensor: 'a', t: Number.NaN, value: 1 }], [0])).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
  await w.close();
  expect(() => postgresTimeSeriesSink<Point>({ table, columns: { sensor: 'text', t: 'bigint' }, series: ['sensor'], time: 't', row: (p) => [p.sensor, p.t] })).toThrow(/must have type timestamptz/);
  expect(() => postgresTimeSeriesSink<Point>({ table, columns: { sensor: 'text; drop table x', t: 'timestamptz' }, series: ['sensor'], time: 't', row: (p) => [p.sensor, p.t] })).toThrow(/not a plain SQL type/);
});
