/**
 * `npm run bench:parallel`: the same jobs at parallelism 1 and 2 in one run, on this
 * machine's cores (worker threads), and the ratio (target: a keyed aggregation at
 * parallelism 2 at least 1.6x parallelism 1 on 2 cores).
 *
 * A parallel run pays a fixed cost first: each worker thread loads TypeScript and imports
 * the job's module (about a second here). The bench measures it with a run of 1,000
 * events and reports the speedup with and without it ("steady": wall time minus that
 * fixed cost), since a streaming job pays it once in its life.
 *
 * Options: `--events N` (default 5,000,000), `--keys N` (default 10,000), `--runs N`
 * (default 2: the best run counts), `--only keyed,q5`.
 */
import { parseArgs } from 'node:util';
import { runNexmark } from '../src/nexmark/run.js';
import { keyedAggregation } from './jobs/keyed-aggregation.js';

const { values } = parseArgs({
  options: { events: { type: 'string' }, keys: { type: 'string' }, runs: { type: 'string' }, only: { type: 'string' } },
});
const events = Number(values.events ?? 5_000_000);
const keys = Number(values.keys ?? 10_000);
const runs = Number(values.runs ?? 2);
const only = values.only?.split(',');

interface Figure {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly outputs: number;
}

async function measure(run: () => Promise<number>): Promise<Figure> {
  let best: Figure | undefined;
  for (let r = 0; r < runs; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const outputs = await run();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const f = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, outputs };
    if (!best || f.seconds < best.seconds) best = f;
  }
  return best!;
}

const keyed = async (parallelism: number, n0 = events) => {
  let n = 0;
  const o = { events: n0, keys, parallelism };
  await keyedAggregation(o, () => n++).run({ moduleArgs: [JSON.stringify(o)] });
  return n;
};
const q5 = async (parallelism: number, n = events) => (await runNexmark({ query: 'q5', input: { kind: 'generate', events: n }, parallelism })).report.outputRows;

const workloads: Array<[string, (p: number, events?: number) => Promise<number>]> = [
  ['keyed', keyed],
  ['q5', q5],
];
console.log(`parallel bench: ${events} events, ${keys} keys, best of ${runs}; node ${process.version}`);
const rows: string[] = [];
for (const [name, run] of workloads) {
  if (only && !only.includes(name)) continue;
  const one = await measure(() => run(1));
  const two = await measure(() => run(2));
  const fixed1 = await measure(() => run(1, 1000));
  const fixed2 = await measure(() => run(2, 1000));
  if (one.outputs !== two.outputs) throw new Error(`${name}: ${one.outputs} results at parallelism 1, ${two.outputs} at 2`);
  const rate = (f: Figure) => Math.round(events / f.seconds);
  const line = {
    workload: name,
    p1EventsPerSecond: rate(one),
    p2EventsPerSecond: rate(two),
    speedup: Number((one.seconds / two.seconds).toFixed(2)),
    fixedSeconds: [Number(fixed1.seconds.toFixed(2)), Number(fixed2.seconds.toFixed(2))],
    steadySpeedup: Number(((one.seconds - fixed1.seconds) / (two.seconds - fixed2.seconds)).toFixed(2)),
    p1CpuSeconds: Number(one.cpuSeconds.toFixed(2)),
    p2CpuSeconds: Number(two.cpuSeconds.toFixed(2)),
    results: one.outputs,
  };
  rows.push(JSON.stringify(line));
  console.log(
    `${name.padEnd(8)} p1 ${String(line.p1EventsPerSecond).padStart(10)} ev/s   p2 ${String(line.p2EventsPerSecond).padStart(10)} ev/s   speedup ${line.speedup}x, ` +
      `steady ${line.steadySpeedup}x${name === 'keyed' ? ' (target >= 1.6x)' : ''}   start-up ${line.fixedSeconds[0]}s / ${line.fixedSeconds[1]}s   cpu ${line.p1CpuSeconds}s / ${line.p2CpuSeconds}s`,
  );
}
for (const r of rows) console.log(r);
