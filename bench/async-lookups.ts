/**
 * The lookup joins over real tables, cache off (every record asks its table), beside a
 * hand-written loop with the same lookup client and the same keys in flight: Redis
 * (MGET), PostgreSQL (`= ANY($1)`), both with batches of the keys in flight, and an HTTP
 * service (one GET per key, 100 at a time) that runs in a child process so that it does
 * not share this process's event loop. Part of `npm run bench -- async`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { lookupJoin } from '../src/api/joins/lookup-join.js';
import { generator } from '../src/connectors/generator/index.js';
import { httpLookup } from '../src/connectors/http/lookup.js';
import type { Lookup } from '../src/connectors/lookup.js';
import { postgresLookup } from '../src/connectors/postgres/lookup.js';
import { redisKeyLookup } from '../src/connectors/redis/key-lookup.js';
import { Job } from '../src/launch/job.js';
import { countTo } from './count-sink.js';

const KEYS = 10_000;
const IN_FLIGHT = 100;
const TABLE = 'bench_lookup_users';

/** Records through a lookup join with the cache off, `IN_FLIGHT` records in flight. */
async function joinRate(lookup: Lookup<string, unknown>, n: number): Promise<number> {
  const { sink, all } = countTo(n);
  const job = new Job({ name: 'bench-lookup-cold', batchSize: 512 });
  lookupJoin(job.source(generator({ make: (i) => String(i % KEYS), count: n }), { uid: 'in' }), lookup, {
    uid: 'users',
    key: (k) => k,
    join: (k, v) => (v === null ? k : v),
    onMiss: 'null',
    mode: 'unordered',
    capacity: IN_FLIGHT,
    cache: { maxEntries: 0, ttl: '1m' },
  }).sinkTo(sink);
  const started = performance.now();
  const running = job.start();
  await all;
  const rate = n / ((performance.now() - started) / 1000);
  await running.done;
  return rate;
}

/** The hand loop: `workers` callers, each asking `perCall` keys at a time with the same client, until `n` records are answered. */
async function loopRate(lookup: Lookup<string, unknown>, n: number, workers: number, perCall: number): Promise<number> {
  let next = 0;
  let answered = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const from = next;
      next = Math.min(n, next + perCall);
      const keys = Array.from({ length: next - from }, (_, j) => String((from + j) % KEYS));
      const values = await lookup.get(keys, new AbortController().signal);
      answered += values.length;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  if (answered !== n) throw new Error('lost records');
  return n / ((performance.now() - started) / 1000);
}

/** A JSON service of users in a child process: GET /users/:id. */
async function startHttpService(): Promise<{ port: number; child: ChildProcess }> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { const id = req.url.split('/').pop(); res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ id, country: Number(id) % 2 ? 'fr' : 'de' })); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { port: Number(line.toString().trim()), child };
}

const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')}/s`;
const pct = (r: number) => `${(r * 100).toFixed(0)}%`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Prints the cold lookup joins beside their loops (medians of 3 interleaved runs). */
export async function benchColdLookups(records: number): Promise<void> {
  const db = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await db.connect();
  await db.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id text PRIMARY KEY, country text NOT NULL)`);
  await db.query(`INSERT INTO ${TABLE} SELECT g::text, CASE WHEN g % 2 = 1 THEN 'fr' ELSE 'de' END FROM generate_series(0, ${KEYS - 1}) g ON CONFLICT DO NOTHING`);
  await db.end();
  const http = await startHttpService();
  const cases: Array<{ name: string; lookup: Lookup<string, unknown>; workers: number; perCall: number; n: number }> = [
    // The Redis keys are the ones bench/async.ts wrote.
    { name: 'redis MGET', lookup: redisKeyLookup({ redisKey: (k) => `bench:async:user:${k}`, name: 'redis' }), workers: 1, perCall: IN_FLIGHT, n: records },
    { name: 'postgres ANY($1)', lookup: postgresLookup({ table: TABLE, keyColumn: 'id', columns: ['id', 'country'] }) as Lookup<string, unknown>, workers: 1, perCall: IN_FLIGHT, n: records },
    { name: 'http GET per key', lookup: httpLookup({ url: (id) => `http://127.0.0.1:${http.port}/users/${id}` }), workers: IN_FLIGHT, perCall: 1, n: Math.max(2_000, Math.floor(records / 5)) },
  ];
  console.log(`lookup joins, cache off, ${IN_FLIGHT} records in flight | loop       | lookupJoin | ratio   (medians of 3 interleaved runs)`);
  try {
    for (const c of cases) {
      await loopRate(c.lookup, Math.min(c.n, 2_000), c.workers, c.perCall); // warm-up: connect
      await joinRate(c.lookup, Math.min(c.n, 2_000));
      const loop: number[] = [];
      const join: number[] = [];
      for (let r = 0; r < 3; r++) {
        loop.push(await loopRate(c.lookup, c.n, c.workers, c.perCall));
        join.push(await joinRate(c.lookup, c.n));
      }
      const [l, j] = [median(loop), median(join)];
      console.log(`${c.name.padStart(40)} | ${fmt(l).padEnd(10)} | ${fmt(j).padEnd(10)} | ${pct(j / l).padStart(5)}`);
      console.log(JSON.stringify({ workload: 'lookup-join-cold', lookup: c.name, records: c.n, loop: l, join: j, ratio: j / l }));
    }
  } finally {
    for (const c of cases) await c.lookup.close?.();
    http.child.kill();
  }
}
