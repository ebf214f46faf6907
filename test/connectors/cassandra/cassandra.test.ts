/**
 * The Cassandra sink against a real Apache Cassandra (127.0.0.1:9042, started by
 * test/setup/cassandra.ts through scripts/cassandra/start.sh): the shared sink suite
 * (exactly-once by idempotence, through a job that fails once), upserts and deletes
 * against a batch "last record per key", TTL retention, token-aware grouping, bad input.
 */
import fc from 'fast-check';
import { Client } from 'cassandra-driver';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cassandraSink } from '../../../src/connectors/cassandra/index.js';
import { ReplicaGrouper } from '../../../src/connectors/cassandra/replicas.js';
import { SluiceError } from '../../../src/errors/index.js';
import { describeSink, testSinkContext } from '../../../src/testing/index.js';
import { checkProperty, propertyRuns } from '../../property.js';

const keyspace = `sluice_sink_${process.pid}`;
const client = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', socketOptions: { readTimeout: 30_000 } });
let seq = 0;

beforeAll(async () => {
  await client.connect();
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
}, 120_000);

afterAll(async () => {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
  await client.shutdown();
}, 120_000);

async function freshTable(columns = 'id int PRIMARY KEY, name text'): Promise<string> {
  const t = `t${seq++}`;
  await client.execute(`CREATE TABLE ${keyspace}.${t} (${columns})`);
  return t;
}

async function rows(table: string): Promise<Array<{ id: number; name: string }>> {
  const r = await client.execute(`SELECT id, name FROM ${keyspace}.${table}`, [], { fetchSize: 100_000 });
  return r.rows.map((row) => ({ id: row['id'] as number, name: row['name'] as string })).sort((a, b) => a.id - b.id);
}

interface Rec {
  id: number;
  name: string;
  deleted?: boolean;
}
const make = (i: number): Rec => ({ id: i, name: `n${i}` });
const sinkOn = (table: string, extra: Partial<Parameters<typeof cassandraSink<Rec>>[0]> = {}) =>
  cassandraSink<Rec>({ keyspace, table, columns: ['id', 'name'], row: (r) => [r.id, r.name], batchSize: 50, ...extra });

describeSink<Rec>('cassandraSink', {
  kind: 'idempotent',
  make,
  prepare: async () => {
    const table = await freshTable();
    return { sink: sinkOn(table), read: () => rows(table) };
  },
});

it('upserts and deletes by primary key: the table equals a batch "last record per key", whatever the order and batching', async () => {
  const table = await freshTable();
  const op = fc.record({ id: fc.integer({ min: 0, max: 30 }), name: fc.string({ maxLength: 4 }), deleted: fc.boolean() });
  await checkProperty(
    // Small batches and few in flight: a key is written by several batches in flight at once, which may land in any order.
    fc.asyncProperty(fc.array(fc.array(op, { maxLength: 40 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), async (epochs, batchSize, concurrency) => {
      await client.execute(`TRUNCATE ${keyspace}.${table}`);
      const w = sinkOn(table, { batchSize, concurrency, isDelete: (r) => r.deleted === true }).createWriter(testSinkContext({ transactional: true }));
      await w.open!();
      const expected = new Map<number, string>();
      let cp = 0;
      for (const records of epochs) {
        for (let i = 0; i < records.length; i += 5) await w.write(records.slice(i, i + 5), records.slice(i, i + 5).map(() => Number.NaN));
        await w.preCommit!(++cp);
        for (const r of records) {
          if (r.deleted) expected.delete(r.id);
          else expected.set(r.id, r.name);
        }
      }
      await w.close();
      expect(await rows(table)).toEqual([...expected].sort((a, b) => a[0] - b[0]).map(([id, name]) => ({ id, name })));
    }),
    propertyRuns(15),
  );
}, 120_000);

it('retention: rows carry the declared TTL', async () => {
  const table = await freshTable();
  const w = sinkOn(table, { ttl: '2h' }).createWriter(testSinkContext({ transactional: false }));
  await w.open!();
  await w.write([make(1)], [Number.NaN]);
  await w.flush!();
  await w.close();
  const ttl = (await client.execute(`SELECT TTL(name) AS t FROM ${keyspace}.${table} WHERE id = 1`)).rows[0]!['t'] as number;
  expect(ttl).toBeGreaterThan(7000);
  expect(ttl).toBeLessThanOrEqual(7200);
  expect(() => sinkOn(table, { ttl: 10 })).toThrow(/at least 1s/);
});

it('writes composite keys (partition and clustering columns), grouped by replica', async () => {
  const table = await freshTable('tenant text, day int, seq bigint, v double, PRIMARY KEY ((tenant, day), seq)');
  type P = { tenant: string; day: number; seq: bigint; v: number };
  const sink = cassandraSink<P>({ keyspace, table, columns: ['tenant', 'day', 'seq', 'v'], row: (p) => [p.tenant, p.day, p.seq, p.v], batchSize: 7 });
  const w = sink.createWriter(testSinkContext({ transactional: true }));
  await w.open!();
  const points: P[] = Array.from({ length: 200 }, (_, i) => ({ tenant: `t${i % 5}`, day: i % 3, seq: BigInt(i), v: i / 2 }));
  await w.write(points, points.map(() => Number.NaN));
  await w.preCommit!(1);
  await w.close();
  const r = await client.execute(`SELECT tenant, day, seq, v FROM ${keyspace}.${table}`, [], { fetchSize: 1000 });
  expect(r.rows.map((x) => `${x['tenant']}/${x['day']}/${x['seq']}/${x['v']}`).sort()).toEqual(points.map((p) => `${p.tenant}/${p.day}/${p.seq}/${p.v}`).sort());
});

it('bad input: a row of the wrong length is BAD_RECORD; a key column not written or a missing table fails when the writer opens', async () => {
  const table = await freshTable();
  const w = cassandraSink<Rec>({ keyspace, table, columns: ['id', 'name'], row: (r) => [r.id] }).createWriter(testSinkContext());
  await w.open!();
  expect(() => w.write([make(1)], [Number.NaN])).toThrow(expect.objectContaining({ code: 'BAD_RECORD', message: expect.stringMatching(/row\(\) returned 1 values .* expected 2 \(id, name\)/) }));
  await w.close();

  const noKey = cassandraSink<Rec>({ keyspace, table, columns: ['name'], row: (r) => [r.name] }).createWriter(testSinkContext());
  await expect(noKey.open!()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/primary key column\(s\) id are not among the columns/) });
  await noKey.close();

  const none = sinkOn('no_such_table').createWriter(testSinkContext());
  await expect(none.open!()).rejects.toMatchObject({ code: 'SINK_FAILED', message: expect.stringMatching(/does not exist/) });
  await none.close();

  const wrongType = cassandraSink<Rec>({ keyspace, table, columns: ['id', 'name'], row: (r) => [r.name, r.id] }).createWriter(testSinkContext());
  await wrongType.open!();
  await wrongType.write([make(1)], [Number.NaN]);
  await expect(wrongType.flush!()).rejects.toBeInstanceOf(SluiceError);
  await wrongType.close();

  expect(() => cassandraSink<Rec>({ keyspace: 'x; DROP', table, columns: ['id'], row: (r) => [r.id] })).toThrow(/letters, digits and _/);
  expect(() => sinkOn(table, { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
});

it('token-aware: the routing key of a row hashes to the token the server computes for it, and routes to its replica', async () => {
  const table = await freshTable('tenant text, day int, seq bigint, v double, PRIMARY KEY ((tenant, day), seq)');
  const single = await freshTable();
  const { Encoder } = (await import('cassandra-driver')).default as unknown as { Encoder: ConstructorParameters<typeof ReplicaGrouper>[4] };
  for (const [t, cols, sample] of [
    [table, [{ name: 'tenant', type: { code: 0x0d } }, { name: 'day', type: { code: 0x09 } }], ['acme', 17]],
    [single, [{ name: 'id', type: { code: 0x09 } }], [42]],
  ] as const) {
    const g = new ReplicaGrouper(client, keyspace, cols, cols.map((_, i) => i), Encoder);
    const key = g.routingKey(sample)!;
    const where = cols.map((c) => `${c.name} = ?`).join(' AND ');
    await client.execute(`INSERT INTO ${keyspace}.${t} (${cols.map((c) => c.name).join(', ')}${t === table ? ', seq' : ''}) VALUES (${cols.map(() => '?').join(', ')}${t === table ? ', 1' : ''})`, [...sample], { prepare: true });
    const server = await client.execute(`SELECT token(${cols.map((c) => c.name).join(', ')}) AS t FROM ${keyspace}.${t} WHERE ${where}`, [...sample], { prepare: true });
    expect(client.metadata.newToken(key).toString()).toBe(String(server.rows[0]!['t']));
    expect([...g.group([sample], (r) => r).keys()]).toEqual(['127.0.0.1:9042']);
  }
});
