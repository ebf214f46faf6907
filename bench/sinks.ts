/**
 * `npm run bench -- sinks [--records N] [--events N] [--runs N] [--only postgres,influxdb,cassandra,opensearch,rollup]`:
 * the time-series sinks, the Cassandra sink and rollups, each beside its peer in the same run.
 *
 * - PostgreSQL time series: a job writing N rows through `postgresTimeSeriesSink` (into a
 *   daily-partitioned table, upserts by series and time) beside hand-written `pg` loops
 *   doing the same upserts into the same kind of table: multi-row `VALUES` statements of
 *   1,000 rows (the usual hand loop) and `unnest` arrays of 5,000 rows (the sink's statement).
 * - InfluxDB: a job writing N points through `influxSink` beside a hand-written `fetch`
 *   loop posting the same line protocol, 5,000 points a request.
 * - Cassandra: a job writing N rows through `cassandraSink` beside a hand-written
 *   `cassandra-driver` loop of UNLOGGED batches (`sinks-cassandra.ts`).
 * - OpenSearch: a job writing N documents through `openSearchSink` beside a hand-written
 *   `_bulk` loop over fetch (`sinks-opensearch.ts`).
 * - Rollup: `rollup()` over 1m / 1h / 1d beside one tumbling 1m aggregate of the same
 *   named aggregates (the finest level alone), over the same events (target: < 1.5×),
 *   without and with an allowed lateness of 5 minutes (both sides).
 *
 * Figures are the median of `--runs` (default 3), after one warm-up run of each that is not
 * counted; records per second from the job's start to its end (the sink flushed), or the
 * loop's first to last statement. The machine is shared: compare figures of one run only.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Job } from '../src/launch/job.js';
import { generator } from '../src/connectors/generator/index.js';
import { postgresTimeSeriesSink } from '../src/connectors/postgres/index.js';
import { influxSink, type InfluxPoint } from '../src/connectors/influxdb/index.js';
import { rollup } from '../src/api/rollup.js';
import { WatermarkStrategy } from '../src/time/watermark-strategy.js';
import { tumbling } from '../src/window/assigners/index.js';
import { count, max, sum } from '../src/window/aggregates/index.js';
import { namedAggregates } from '../src/window/rollup/named-aggregates.js';
import { countTo } from './count-sink.js';
import { ensureInfluxdb } from '../test/setup/influxdb.js';
import { cassandraBench } from './sinks-cassandra.js';
import { openSearchBench } from './sinks-opensearch.js';

interface Reading {
  sensor: string;
  t: number;
  v: number;
}
const T0 = Date.UTC(2026, 0, 1);
const SENSORS = 100;
/** Reading i: sensor i mod 100, one reading per sensor per second. */
const reading = (i: number): Reading => ({ sensor: `s${i % SENSORS}`, t: T0 + Math.floor(i / SENSORS) * 1000, v: i % 997 });

const arg = (args: string[], name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')}/s`.padStart(14);
const timed = async (f: () => Promise<void>): Promise<number> => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};

async function runJob<T>(n: number, make: (i: number) => T, sinkTo: (s: ReturnType<Job['source']>) => void): Promise<number> {
  const job = new Job({ name: 'bench-sinks', batchSize: 1024 });
  sinkTo(job.source(generator({ make, count: n }), { uid: 'in' }) as ReturnType<Job['source']>);
  return timed(async () => {
    await job.start().done;
  });
}

// ---- PostgreSQL ----

const PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const COLUMNS = { sensor: 'text', t: 'timestamptz', v: 'double precision' } as const;

async function pgBench(n: number, runs: number): Promise<Record<string, number>> {
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  const tables: string[] = [];
  const fresh = async () => {
    const t = `bench_ts_${randomUUID().slice(0, 8)}`;
    tables.push(t);
    // The same table the sink makes (it makes it itself when missing); the loops get it made.
    await db.query(`CREATE TABLE ${t} (sensor text NOT NULL, t timestamptz NOT NULL, v double precision, PRIMARY KEY (sensor, t)) PARTITION BY RANGE (t)`);
    for (let d = 0; d * 86_400_000 <= (n / SENSORS) * 1000; d++) {
      const from = new Date(T0 + d * 86_400_000).toISOString();
      const to = new Date(T0 + (d + 1) * 86_400_000).toISOString();
      await db.query(`CREATE TABLE ${t}_p${(T0 + d * 86_400_000) / 1000} PARTITION OF ${t} FOR VALUES FROM ('${from}') TO ('${to}')`);
    }
    return t;
  };
  const rows = Array.from({ length: n }, (_, i) => reading(i));
  const out: Record<string, number[]> = { sink: [], valuesLoop: [], unnestLoop: [] };
  try {
    for (let r = 0; r <= runs; r++) {
      const t1 = `bench_ts_${randomUUID().slice(0, 8)}`;
      tables.push(t1);
      const sink = postgresTimeSeriesSink<Reading>({ table: t1, columns: COLUMNS, series: ['sensor'], time: 't', row: (x) => [x.sensor, x.t, x.v], batchSize: 5000 });
      out.sink!.push(n / (await runJob(n, reading, (s) => (s as any).sinkTo(sink, { uid: 'out' }))));

      const t2 = await fresh();
      out.valuesLoop!.push(
        n /
          (await timed(async () => {
            for (let i = 0; i < n; i += 1000) {
              const chunk = rows.slice(i, i + 1000);
              const params: unknown[] = [];
              const values = chunk.map((x, j) => {
                params.push(x.sensor, new Date(x.t).toISOString(), x.v);
                return `($${3 * j + 1}, $${3 * j + 2}, $${3 * j + 3})`;
              });
              await db.query(`INSERT INTO ${t2} (sensor, t, v) VALUES ${values.join(', ')} ON CONFLICT (sensor, t) DO UPDATE SET v = EXCLUDED.v`, params);
            }
          })),
      );

      const t3 = await fresh();
      out.unnestLoop!.push(
        n /
          (await timed(async () => {
            for (let i = 0; i < n; i += 5000) {
              const chunk = rows.slice(i, i + 5000);
              await db.query(
                `INSERT INTO ${t3} (sensor, t, v) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::double precision[]) ON CONFLICT (sensor, t) DO UPDATE SET v = EXCLUDED.v`,
                [chunk.map((x) => x.sensor), chunk.map((x) => new Date(x.t).toISOString()), chunk.map((x) => x.v)],
              );
            }
          })),
      );
      const c = await db.query(`SELECT count(*)::int AS n FROM ${t1}`);
      if (c.rows[0].n !== n) throw new Error(`the sink wrote ${c.rows[0].n} rows, expected ${n}`);
    }
  } finally {
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t} CASCADE`).catch(() => {});
    await db.end();
  }
  // Run 0 was the warm-up.
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v.length > runs ? v.slice(1) : v)]));
}

// ---- InfluxDB ----

const INFLUX = 'http://127.0.0.1:8086';
const point = (x: Reading): InfluxPoint => ({ measurement: 'reading', tags: { sensor: x.sensor }, fields: { v: x.v }, time: x.t });
const influxql = (q: string) => fetch(`${INFLUX}/query`, { method: 'POST', body: new URLSearchParams({ q }) });

async function influxBench(n: number, runs: number): Promise<Record<string, number>> {
  ensureInfluxdb();
  const out: Record<string, number[]> = { sink: [], loop: [] };
  const dbs: string[] = [];
  try {
    for (let r = 0; r <= runs; r++) {
      const d1 = `bench_${randomUUID().slice(0, 8)}`;
      dbs.push(d1);
      out.sink!.push(n / (await runJob(n, reading, (s) => (s as any).sinkTo(influxSink<Reading>({ database: d1, point, batchSize: 5000 }), { uid: 'out' }))));

      const d2 = `bench_${randomUUID().slice(0, 8)}`;
      dbs.push(d2);
      await influxql(`CREATE DATABASE "${d2}"`);
      out.loop!.push(
        n /
          (await timed(async () => {
            for (let i = 0; i < n; i += 5000) {
              let body = '';
              for (let j = i; j < Math.min(n, i + 5000); j++) {
                const x = reading(j);
                body += `reading,sensor=${x.sensor} v=${x.v} ${x.t}\n`;
              }
              const res = await fetch(`${INFLUX}/write?db=${d2}&precision=ms`, { method: 'POST', body });
              if (res.status !== 204) throw new Error(`influx answered ${res.status}: ${await res.text()}`);
            }
          })),
      );
      const json = (await (await fetch(`${INFLUX}/query?${new URLSearchParams({ db: d1, q: 'SELECT count(v) FROM reading' })}`)).json()) as any;
      const written = json.results[0].series?.[0].values[0][1];
      if (written !== n) throw new Error(`the sink wrote ${written} points, expected ${n}`);
    }
  } finally {
    for (const d of dbs) await influxql(`DROP DATABASE "${d}"`).catch(() => {});
  }
  // Run 0 was the warm-up.
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v.length > runs ? v.slice(1) : v)]));
}

// ---- rollup ----

interface Ev {
  key: number;
  t: number;
  v: number;
}
const KEYS = 1000;
/** 1,000 keys, 20 events per key and minute: a key-minute bucket folds 20 events. */
const event = (i: number): Ev => ({ key: i % KEYS, t: i * 3, v: i % 101 });
const aggregates = () => ({ n: count(), total: sum<Ev>('v'), peak: max<Ev>('v') });

async function rollupBench(n: number, runs: number, lateness: number): Promise<Record<string, number>> {
  const out: Record<string, number[]> = { single: [], rollup: [] };
  const watermarks = () => WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.t);
  // Run 0 warms the JIT up for both and is not counted; then they alternate.
  for (let r = 0; r <= runs; r++) {
    {
      const job = new Job({ name: 'bench-single', batchSize: 1024 });
      const { sink } = countTo(Number.MAX_SAFE_INTEGER);
      job
        .source(generator({ make: event, count: n }), { uid: 'in', watermarks: watermarks() })
        .keyBy((e) => e.key)
        .window(tumbling('1m'))
        .allowedLateness(lateness)
        .aggregate(namedAggregates<Ev, ReturnType<typeof aggregates>>(aggregates()), { uid: 'agg' })
        .sinkTo(sink);
      const rate = n / (await timed(async () => void (await job.start().done)));
      if (r > 0) out.single!.push(rate);
    }
    {
      const job = new Job({ name: 'bench-rollup', batchSize: 1024 });
      const r3 = rollup(job.source(generator({ make: event, count: n }), { uid: 'in', watermarks: watermarks() }), {
        uid: 'r',
        key: 'key',
        levels: ['1m', '1h', '1d'],
        aggregates: aggregates(),
        allowedLateness: lateness,
      });
      r3.sinkTo(() => countTo(Number.MAX_SAFE_INTEGER).sink);
      const rate = n / (await timed(async () => void (await job.start().done)));
      if (r > 0) out.rollup!.push(rate);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v)]));
}

export async function runSinksBench(args: string[]): Promise<void> {
  const n = arg(args, '--records', 200_000);
  const events = arg(args, '--events', 2_000_000);
  const runs = arg(args, '--runs', 3);
  console.log(`sinks: ${n.toLocaleString('en-US')} records per sink run, rollup over ${events.toLocaleString('en-US')} events, median of ${runs} runs`);

  const onlyAt = args.indexOf('--only');
  const only = new Set(onlyAt >= 0 ? args[onlyAt + 1]!.split(',') : ['postgres', 'influxdb', 'cassandra', 'opensearch', 'rollup']);
  const figures: Record<string, number> = {};

  if (only.has('postgres')) {
    const p = await pgBench(n, runs);
    const pgPeer = Math.max(p.valuesLoop!, p.unnestLoop!);
    console.log(`  postgres time series  sink ${fmt(p.sink!)}   hand loop VALUES×1000 ${fmt(p.valuesLoop!)}   hand loop unnest×5000 ${fmt(p.unnestLoop!)}   sink/best loop ${(p.sink! / pgPeer).toFixed(2)} (target ≥ 0.50)`);
    Object.assign(figures, { postgresSinkPerSecond: Math.round(p.sink!), postgresValuesLoopPerSecond: Math.round(p.valuesLoop!), postgresUnnestLoopPerSecond: Math.round(p.unnestLoop!) });
  }

  if (only.has('influxdb')) {
    const f = await influxBench(n, runs);
    console.log(`  influxdb              sink ${fmt(f.sink!)}   hand fetch loop ×5000 ${fmt(f.loop!)}   sink/loop ${(f.sink! / f.loop!).toFixed(2)} (target ≥ 0.50)`);
    Object.assign(figures, { influxSinkPerSecond: Math.round(f.sink!), influxLoopPerSecond: Math.round(f.loop!) });
  }

  if (only.has('cassandra')) {
    const c = await cassandraBench(n, runs);
    console.log(`  cassandra             sink ${fmt(c.sink)}   hand driver loop, UNLOGGED batches ×100, 16 in flight ${fmt(c.loop)}   sink/loop ${(c.sink / c.loop).toFixed(2)} (target ≥ 0.50)`);
    Object.assign(figures, { cassandraSinkPerSecond: Math.round(c.sink), cassandraLoopPerSecond: Math.round(c.loop), cassandraSinkToLoop: Number((c.sink / c.loop).toFixed(3)) });
  }

  if (only.has('opensearch')) {
    const o = await openSearchBench(n, runs);
    console.log(`  opensearch            sink ${fmt(o.sink)}   hand _bulk loop over fetch, 1,000 actions a request ${fmt(o.loop)}   sink/loop ${(o.sink / o.loop).toFixed(2)} (target ≥ 0.50)`);
    Object.assign(figures, { openSearchSinkPerSecond: Math.round(o.sink), openSearchLoopPerSecond: Math.round(o.loop), openSearchSinkToLoop: Number((o.sink / o.loop).toFixed(3)) });
  }
  if (only.has('rollup')) {
    const r = await rollupBench(events, runs, 0);
    const cost = r.single! / r.rollup!;
    console.log(`  rollup 1m/1h/1d ${fmt(r.rollup!)} events   single tumbling 1m ${fmt(r.single!)} events   rollup cost ${cost.toFixed(2)}× (target < 1.5×)`);
    const rl = await rollupBench(events, runs, 300_000);
    const costLate = rl.single! / rl.rollup!;
    console.log(`  the same with allowed lateness 5m (corrections possible: copies, open buckets kept apart): rollup ${fmt(rl.rollup!)}   single ${fmt(rl.single!)}   cost ${costLate.toFixed(2)}×`);
    Object.assign(figures, {
      rollupPerSecond: Math.round(r.rollup!),
      singleTumblingPerSecond: Math.round(r.single!),
      rollupCost: Number(cost.toFixed(3)),
      rollupLatePerSecond: Math.round(rl.rollup!),
      singleTumblingLatePerSecond: Math.round(rl.single!),
      rollupCostWithLateness: Number(costLate.toFixed(3)),
    });
  }

  console.log(JSON.stringify({ bench: 'sinks', records: n, events, runs, ...figures }));
}
