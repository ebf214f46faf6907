/**
 * The Cassandra part of `npm run bench -- sinks`: a job writing N rows through
 * `cassandraSink` (token-aware UNLOGGED batches of 100, 16 in flight) beside a
 * hand-written `cassandra-driver` loop doing the same upserts into the same kind of table,
 * as a user would write it: prepared INSERTs in UNLOGGED batches of 100, 16 in flight.
 * Against the server of scripts/cassandra/start.sh (127.0.0.1:9042).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from 'cassandra-driver';
import { Job } from '../src/launch/job.js';
import { median, reading, timed, type Reading } from './sink-readings.js';
import { generator } from '../src/connectors/generator/index.js';
import { cassandraSink } from '../src/connectors/cassandra/index.js';

const BATCH = 100;
const IN_FLIGHT = 16;

/** Records per second of the sink in a job and of the hand loop, median of `runs` after one warm-up each. */
export async function cassandraBench(n: number, runs: number): Promise<{ sink: number; loop: number }> {
  const start = spawnSync('bash', [fileURLToPath(new URL('../scripts/cassandra/start.sh', import.meta.url))], { stdio: 'inherit' });
  if (start.status !== 0) throw new Error('scripts/cassandra/start.sh failed');
  const keyspace = `bench_${process.pid}`;
  const client = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', socketOptions: { readTimeout: 60_000 } });
  await client.connect();
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  let seq = 0;
  const fresh = async () => {
    const t = `r${seq++}`;
    await client.execute(`CREATE TABLE ${keyspace}.${t} (sensor text, t timestamp, v double, PRIMARY KEY (sensor, t))`);
    return t;
  };
  const rows = Array.from({ length: n }, (_, i) => reading(i));
  const out = { sink: [] as number[], loop: [] as number[] };
  try {
    for (let r = 0; r <= runs; r++) {
      const t1 = await fresh();
      const job = new Job({ name: 'bench-cassandra', batchSize: 1024 });
      job
        .source(generator({ make: reading, count: n }), { uid: 'in' })
        .sinkTo(cassandraSink<Reading>({ keyspace, table: t1, columns: ['sensor', 't', 'v'], row: (x) => [x.sensor, new Date(x.t), x.v], batchSize: BATCH, concurrency: IN_FLIGHT }), { uid: 'out' });
      const sinkRate = n / (await timed(async () => void (await job.start().done)));

      const t2 = await fresh();
      const insert = `INSERT INTO ${keyspace}.${t2} (sensor, t, v) VALUES (?, ?, ?)`;
      const loopRate =
        n /
        (await timed(async () => {
          let next = 0;
          const worker = async () => {
            while (next < n) {
              const from = next;
              next += BATCH;
              const batch = rows.slice(from, from + BATCH).map((x) => ({ query: insert, params: [x.sensor, new Date(x.t), x.v] }));
              await client.batch(batch, { prepare: true, logged: false });
            }
          };
          await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
        }));
      if (r > 0) {
        out.sink.push(sinkRate);
        out.loop.push(loopRate);
      }
      for (const t of [t1, t2]) {
        const c = await client.execute(`SELECT count(*) AS n FROM ${keyspace}.${t}`, [], { readTimeout: 120_000 });
        if (Number(c.rows[0]!['n']) !== n) throw new Error(`${t} holds ${c.rows[0]!['n']} rows, expected ${n}`);
      }
    }
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
  }
  return { sink: median(out.sink), loop: median(out.loop) };
}
