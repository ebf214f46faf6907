import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeSink, testSinkContext } from '../../../src/testing/index.js';
import { postgresSink } from '../../../src/connectors/postgres/index.js';

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
