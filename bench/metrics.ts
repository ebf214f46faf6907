/**
 * What metrics cost: the same keyed aggregation with `metrics: true` and `metrics: false`,
 * in one process, alternating runs (off, on, off, on, …) so that JIT warm-up and machine
 * noise fall on both alike; prints the median events per CPU second of each and the cost in percent.
 * The target (issue "Operating Sluice"): under 5%.
 *
 * Workload: 4M generated events (10,000 keys), a keyed running sum (`keyBy(key).reduce(…)`, one result per event)
 * behind a union (so that records cross a channel between tasks, where the metrics hook
 * in: records in and out per step, busy/idle/backpressured time per task, read time carried
 * for the latency histogram), into a counting sink.
 *
 * Run: `npx tsx bench/metrics.ts [events] [rounds]`.
 */
import { Job } from '../src/launch/job.js';
import type { Sink } from '../src/connectors/sink.js';
import { generator } from '../src/connectors/generator/index.js';
import { WatermarkStrategy } from '../src/time/watermark-strategy.js';

interface Ev {
  key: number;
  value: number;
  ts: number;
}

const events = Number(process.argv[2] ?? 4_000_000);
const rounds = Number(process.argv[3] ?? 5);

async function once(metrics: boolean): Promise<number> {
  let results = 0;
  const sink: Sink<unknown> = { kind: 'count', createWriter: () => ({ write: (v) => void (results += v.length), close: async () => {} }) };
  const job = new Job({ name: `bench-metrics-${metrics ? 'on' : 'off'}`, metrics });
  const half = events / 2;
  const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts);
  const a = job.source(generator<Ev>({ make: (i) => ({ key: i % 10_000, value: i, ts: i }), count: half }), { uid: 'a', watermarks: strategy });
  const b = job.source(generator<Ev>({ make: (i) => ({ key: (i + 5000) % 10_000, value: i, ts: i }), count: half }), { uid: 'b', watermarks: strategy });
  a.union(b)
    .keyBy((e) => e.key)
    .reduce((x, y) => ({ key: x.key, value: x.value + y.value, ts: y.ts }), { uid: 'sums' })
    .sinkTo(sink, { uid: 'out' });
  const c0 = process.cpuUsage();
  await job.run();
  const c = process.cpuUsage(c0);
  if (results === 0) throw new Error('no results');
  // Per CPU second rather than per wall second: the machine may be shared, and CPU time
  // is what the counters cost (the job runs on one thread).
  return events / ((c.user + c.system) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const off: number[] = [];
const on: number[] = [];
await once(false); // warm-up
await once(true);
for (let r = 0; r < rounds; r++) {
  off.push(await once(false));
  on.push(await once(true));
}
const mOff = median(off);
const mOn = median(on);
const cost = ((mOff - mOn) / mOff) * 100;
const fmt = (n: number) => `${(n / 1e6).toFixed(2)}M events per CPU second`;
console.log(`metrics off: ${fmt(mOff)}   (runs: ${off.map((x) => (x / 1e6).toFixed(2)).join(', ')})`);
console.log(`metrics on:  ${fmt(mOn)}   (runs: ${on.map((x) => (x / 1e6).toFixed(2)).join(', ')})`);
console.log(`cost of metrics: ${cost.toFixed(1)}% (target < 5%)`);
