/** postgresLookup as the table of a lookupJoin, against the real PostgreSQL (scripts/services.sh starts it). */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, collectSink, fromCollection, lookupJoin, postgresLookup, type DeadLetter, type Lookup } from '../../../src/index.js';

const URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const table = `lookup_users_${randomUUID().slice(0, 8)}`;
const db = new pg.Client({ connectionString: URL });
const users = Array.from({ length: 40 }, (_, i) => ({ id: i, name: `user ${i}`, country: i % 3 === 0 ? 'fr' : 'de' }));

beforeAll(async () => {
  await db.connect();
  await db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, country text NOT NULL)`);
  await db.query(`INSERT INTO ${table} SELECT * FROM unnest($1::int[], $2::text[], $3::text[])`, [users.map((u) => u.id), users.map((u) => u.name), users.map((u) => u.country)]);
});
afterAll(async () => {
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.end();
});

/** Counts the calls and keys a lookup is asked. */
function counted<K, V>(inner: Lookup<K, V>) {
  const counts = { calls: 0, keys: 0 };
  const lookup: Lookup<K, V> = { name: inner.name, get: (keys, signal) => (counts.calls++, (counts.keys += keys.length), inner.get(keys, signal)), close: () => inner.close!() };
  return { lookup, counts };
}

describe('postgresLookup', () => {
  it('joins each record with its row, asking a batch of keys in one query, and misses keys the table has not got', async () => {
    const { lookup, counts } = counted(postgresLookup<{ name: string; country: string }>({ connectionString: URL, table, keyColumn: 'id', columns: ['name', 'country'] }));
    const ids = Array.from({ length: 300 }, (_, n) => (n * 7) % 50); // ids 40..49 are not in the table
    const job = new Job({ name: 'pg-lookup', batchSize: 300 });
    const out = collectSink<string>();
    lookupJoin(job.source(fromCollection(ids), { uid: 'ids' }), lookup, { uid: 'users', key: (id) => id, join: (id, u) => `${id}:${u ? `${u.name}/${u.country}` : 'none'}`, onMiss: 'null', capacity: 300 }).sinkTo(out);
    await job.run();
    await lookup.close!();
    const expected = ids.map((id) => (id < 40 ? `${id}:user ${id}/${id % 3 === 0 ? 'fr' : 'de'}` : `${id}:none`));
    expect(out.values).toEqual(expected);
    expect(counts.keys).toBe(50); // every distinct id once: the rest hit the cache (misses are cached too)
    expect(counts.calls).toBeLessThanOrEqual(3);
  });

  it('a table that is not there fails the record with LOOKUP_FAILED, naming the lookup and the table', async () => {
    const lookup = postgresLookup({ connectionString: URL, table: `${table}_missing`, keyColumn: 'id' });
    const job = new Job({ name: 'pg-lookup-broken' });
    const out = collectSink<string>();
    const dead = collectSink<DeadLetter>();
    lookupJoin(job.source(fromCollection([1]), { uid: 'ids' }), lookup, { uid: 'users', key: (id) => id, join: (id) => String(id), onMiss: 'null', onError: 'dead-letter' }).sinkTo(out);
    job.deadLetters().sinkTo(dead);
    await job.run();
    await lookup.close!();
    expect(out.values).toEqual([]);
    expect(dead.values.map((d) => d.error.code)).toEqual(['LOOKUP_FAILED']);
    expect(dead.values[0]!.error.message).toMatch(new RegExp(`postgresLookup '${table}_missing'.*does not exist`));
  });

  it('refuses a table or column name that is not a plain SQL name', () => {
    expect(() => postgresLookup({ table: 'users; DROP TABLE x', keyColumn: 'id' })).toThrow(/table: "users; DROP TABLE x" is not a plain SQL identifier/);
    expect(() => postgresLookup({ table: 'users', keyColumn: 'id', columns: ['name"--'] })).toThrow(/postgresLookup column: "name.*--" is not a plain SQL identifier/);
  });
});
