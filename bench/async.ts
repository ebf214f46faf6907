/**
 * `npm run bench -- async [--records N]`: enrichment from the real Redis (127.0.0.1:6379)
 * through `asyncMap` with 1, 10 and 100 calls in flight, ordered and unordered, beside a
 * hand-written loop with the same client and the same concurrency (workers that each
 * await one GET at a time); then the circuit breaker's cost on the happy path (the same
 * step through a `dependency`), and a lookup join over a warm cache. Prints records per
 * second and the ratios against the targets (unordered ≥ 80% of the loop at 100
 * in flight, ordered ≥ 60%, breaker overhead < 5%, warm lookup join ≥ 1M records/s).
 * Last, the lookup joins over Redis, PostgreSQL and HTTP with the cache off, beside
 * hand loops with the same clients (`async-lookups.ts`).
 */
import { Redis } from 'ioredis';
import { Job } from '../src/launch/job.js';
import { generator } from '../src/connectors/generator/index.js';
import { countTo } from './count-sink.js';
import type { Lookup } from '../src/connectors/lookup.js';
import { lookupJoin } from '../src/api/joins/lookup-join.js';
import { dependency, type Dependency } from '../src/resilience/dependency.js';
import { benchColdLookups } from './async-lookups.js';

const KEYS = 10_000;
const key = (i: number) => `bench:async:user:${i % KEYS}`;

async function timed(job: Job, all: Promise<void>, n: number): Promise<number> {
  const started = performance.now();
  const running = job.start();
  await all;
  const seconds = (performance.now() - started) / 1000;
  await running.done;
  return n / seconds;
}

async function sluiceRate(redis: Redis, n: number, inFlight: number, mode: 'ordered' | 'unordered', dep?: Dependency): Promise<number> {
  const { sink, all } = countTo(n);
  const job = new Job({ name: 'bench-async', batchSize: 512 });
  job
    .source(generator({ make: (i) => i, count: n }), { uid: 'in' })
    .asyncMap(async (i: number) => ({ i, user: await redis.get(key(i)) }), { uid: 'enrich', capacity: inFlight, mode, dependency: dep })
    .sinkTo(sink);
  return timed(job, all, n);
}

async function loopRate(redis: Redis, n: number, inFlight: number): Promise<number> {
  let next = 0;
  let count = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const user = await redis.get(key(i));
      if (user !== undefined) count++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (count !== n) throw new Error('lost records');
  return n / ((performance.now() - started) / 1000);
}

async function lookupJoinRate(n: number): Promise<number> {
  const table: Lookup<number, string> = { name: 'mem', get: async (keys) => keys.map((k) => `user ${k}`) };
  const { sink, all } = countTo(n);
  const job = new Job({ name: 'bench-lookup', batchSize: 1024 });
  lookupJoin(job.source(generator({ make: (i) => i % 1000, count: n }), { uid: 'in' }), table, {
    uid: 'users',
    key: (k) => k,
    join: (k, v) => v ?? String(k),
    onMiss: 'null',
    capacity: 1024,
    cache: { maxEntries: 10_000, ttl: '10m' },
  }).sinkTo(sink);
  return timed(job, all, n);
}

/** The breaker's own cost: µs per call it adds to a call that resolves at once, 100 at a time (median of 5). */
async function breakerCostUs(): Promise<number> {
  const d = dependency('bench-breaker-cost', { breaker: { consecutiveFailures: 5, halfOpenAfter: '5s' } });
  const call = () => Promise.resolve(1);
  const n = 1_000_000;
  const time = async (one: () => Promise<number>) => {
    const started = performance.now();
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, one));
    return ((performance.now() - started) * 1000) / n;
  };
  const extra: number[] = [];
  for (let r = 0; r < 5; r++) extra.push((await time(() => d.execute(call))) - (await time(call)));
  return [...extra].sort((a, b) => a - b)[2]!;
}

const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')}/s`;
const pct = (r: number) => `${(r * 100).toFixed(0)}%`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--records');
  const records = at >= 0 ? Number(argv[at + 1]) : 100_000;
  const redis = new Redis('redis://127.0.0.1:6379');
  const pipe = redis.pipeline();
  for (let i = 0; i < KEYS; i++) pipe.set(key(i), JSON.stringify({ id: i, country: i % 2 ? 'fr' : 'de' }));
  await pipe.exec();
  console.log(`async enrichment from Redis, ${records.toLocaleString('en-US')} records per run (1 in flight: a fifth), Node ${process.version}`);
  await sluiceRate(redis, 20_000, 100, 'ordered'); // warm-up: the first job pays for loading and compiling
  await lookupJoinRate(200_000);
  console.log('in flight | loop       | ordered    | ratio | unordered  | ratio   (medians of 3 interleaved runs)');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const inFlight of [1, 10, 100]) {
    const n = inFlight === 1 ? Math.max(1_000, Math.floor(records / 5)) : records;
    await loopRate(redis, Math.min(n, 5_000), inFlight); // warm-up
    // The machine is shared: the three are interleaved, three times, and the medians compared.
    const runs = { loop: [] as number[], ordered: [] as number[], unordered: [] as number[] };
    for (let r = 0; r < 3; r++) {
      runs.loop.push(await loopRate(redis, n, inFlight));
      runs.ordered.push(await sluiceRate(redis, n, inFlight, 'ordered'));
      runs.unordered.push(await sluiceRate(redis, n, inFlight, 'unordered'));
    }
    const [loop, ordered, unordered] = [median(runs.loop), median(runs.ordered), median(runs.unordered)];
    console.log(`${String(inFlight).padStart(9)} | ${fmt(loop).padEnd(10)} | ${fmt(ordered).padEnd(10)} | ${pct(ordered / loop).padStart(5)} | ${fmt(unordered).padEnd(10)} | ${pct(unordered / loop).padStart(5)}`);
    console.log(JSON.stringify({ workload: 'async-redis', inFlight, loop, ordered, unordered, orderedRatio: ordered / loop, unorderedRatio: unordered / loop }));
  }
  const plain: number[] = [];
  const guarded: number[] = [];
  for (let r = 0; r < 3; r++) {
    plain.push(await sluiceRate(redis, records, 100, 'unordered'));
    guarded.push(await sluiceRate(redis, records, 100, 'unordered', dependency('bench-redis', { breaker: { consecutiveFailures: 5, halfOpenAfter: '5s' } })));
  }
  const overhead = 1 - median(guarded) / median(plain);
  console.log(`breaker on the happy path (unordered, 100 in flight, median of 3): without ${fmt(median(plain))}, with ${fmt(median(guarded))}: overhead ${pct(overhead)} (target < 5%)`);
  console.log(JSON.stringify({ workload: 'async-breaker', without: median(plain), with: median(guarded), overhead }));
  const extraUs = await breakerCostUs();
  console.log(
    `breaker cost per call, measured alone (100 calls in flight, 1M calls): ${extraUs.toFixed(2)} µs; at ${fmt(median(plain))} that is ${pct((extraUs * median(plain)) / 1e6)} of a record's time`,
  );
  console.log(JSON.stringify({ workload: 'breaker-cost', extraUsPerCall: extraUs, shareAtRate: (extraUs * median(plain)) / 1e6 }));
  const lookup = await lookupJoinRate(records * 10);
  console.log(`lookup join, warm cache (1,000 keys): ${fmt(lookup)} (target ≥ 1,000,000/s)`);
  console.log(JSON.stringify({ workload: 'lookup-join-warm', rate: lookup }));
  await redis.quit();
  await benchColdLookups(records);
}

await main();
