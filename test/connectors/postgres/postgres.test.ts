import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeSink, testSinkContext } from '../../../src/testing/index.js';
import { postgresSink } from '../../../src/connectors/postgres/index.js';
import { ManualClock } from '../../../src/time/clock.js';

const run = `sluice_${randomUUID().slice(0, 8)}`;
const db = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
const tables: string[] = [];
beforeAll(() => db.connect());
afterAll(async () => {
  for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t}`);
  await db.query(`DELETE FROM sluice_sink_checkpoints WHERE sink LIKE '${run}%'`).catch(() => {});
  await db.end();
});
let seq = 0;
async function freshTable(): Promise<string> {
  const t = `${run}_${seq++}`;
  await db.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, name text NOT NULL)`);
  tables.push(t);
  return t;
}

interface Rec {
  id: number;
  name: string;
}
const make = (i: number): Rec => ({ id: i, name: `n${i}` });

describeSink<Rec>('postgresSink', {
  kind: 'idempotent',
  make,
  prepare: async () => {
    const table = await freshTable();
    return {
      sink: postgresSink<Rec>({ table, key: ['id'], columns: ['id', 'name'], row: (r) => [r.id, r.name], batchSize: 100 }),
      read: async () => (await db.query(`SELECT id, name FROM ${table}`)).rows,
    };
  },
});

it('upserts: a newer row for a key replaces the older, and the checkpoint id commits with the rows', async () => {
  const table = await freshTable();
  const w = postgresSink<Rec>({ table, key: ['id'], columns: ['id', 'name'], row: (r) => [r.id, r.name] }).createWriter(testSinkContext({ uid: 'u', transactional: true }));
  await w.open!();
  await w.write([make(1), { id: 1, name: 'newer' }, make(2)], [Number.NaN, Number.NaN, Number.NaN]);
  expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
  await w.preCommit!(7);
  expect((await db.query(`SELECT id, name FROM ${table} ORDER BY id`)).rows).toEqual([{ id: 1, name: 'newer' }, make(2)]);
  expect((await db.query('SELECT checkpoint_id::int AS c FROM sluice_sink_checkpoints WHERE sink = $1', [`${table}/u`])).rows[0].c).toBe(7);
  expect((await db.query('SHOW max_prepared_transactions')).rows[0].max_prepared_transactions).toBe('0'); // why there is no PREPARE TRANSACTION
  await w.close();
});

it('retention by a time column: rows older than keep (by the job clock) are deleted when the writer opens and at checkpoints, at most once a minute', async () => {
  const t = `${run}_${seq++}`;
  await db.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, seen_at timestamptz NOT NULL)`);
  tables.push(t);
  const day = 86_400_000;
  const now = Date.UTC(2026, 11, 8);
  await db.query(`INSERT INTO ${t} VALUES (1, $1), (2, $2)`, [new Date(now - 40 * day), new Date(now - 10 * day)]);
  const clock = new ManualClock(now);
  type Seen = { id: number; at: number };
  const sink = postgresSink<Seen>({ table: t, key: ['id'], columns: ['id', 'seen_at'], row: (s) => [s.id, new Date(s.at)], retention: { column: 'seen_at', keep: '30d' } });
  const w = sink.createWriter(testSinkContext({ uid: 'r', transactional: true, clock }));
  await w.open!();
  const ids = async () => (await db.query(`SELECT id FROM ${t} ORDER BY id`)).rows.map((r) => r.id);
  expect(await ids()).toEqual([2]); // row 1 was 40 days old
  await w.write([{ id: 3, at: now - 31 * day }, { id: 4, at: now }], [Number.NaN, Number.NaN]);
  await w.preCommit!(1);
  expect(await ids()).toEqual([2, 3, 4]); // checked less than a minute ago: row 3 waits
  clock.advance(60_000);
  await w.preCommit!(2);
  expect(await ids()).toEqual([2, 4]);
  clock.advance(21 * day);
  await w.flush!();
  expect(await ids()).toEqual([4]);
  await w.close();
  expect(() => postgresSink<Seen>({ table: t, key: ['id'], columns: ['id'], row: (s) => [s.id], retention: { column: 'seen_at', keep: '1d' } })).toThrow(/retention column "seen_at" is not among the columns/);
});
