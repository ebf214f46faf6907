/**
 * `npx tsx bench/nexmark-generator.ts`: the Nexmark generator alone, in events per
 * CPU-second (user + system of the process, garbage collection included), as the source
 * drives it: `fill` in batches of 1024 (the job's default batch size), nothing kept.
 *
 * Each run is a fresh process (its own JIT warm-up, counted). With `--baseline DIR` the
 * runs alternate between this checkout's generator and the one under DIR (a copy of an
 * older `src/`, e.g. `git archive <rev> src | tar -x -C DIR`), so that both see the same
 * load on the same machine in the same run; the medians and their ratio close the table.
 *
 * Options: --events N (default 5,000,000), --runs R (default 5), --baseline DIR,
 * --seed S (42), --rate R (10,000,000).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    seed: { type: 'string', default: '42' },
    rate: { type: 'string', default: '10000000' },
    child: { type: 'string' },
  },
});
const events = Number(values.events.replace(/_/g, ''));
const BATCH = 1024;

interface Generator {
  fill(from: number, count: number, values: unknown[], timestamps: number[]): void;
}

/** One measurement, in this process: events per CPU-second of generating [0, events). */
async function measure(srcDir: string): Promise<{ eventsPerCpuSecond: number; checksum: number }> {
  const mod = (await import(pathToFileURL(join(srcDir, 'nexmark/generator.ts')).href)) as { NexmarkGenerator: new (c: object) => Generator };
  const gen = new mod.NexmarkGenerator({ seed: Number(values.seed), rate: Number(values.rate) });
  const vs = new Array<unknown>(BATCH);
  const ts = new Array<number>(BATCH);
  let checksum = 0;
  const cpu0 = process.cpuUsage();
  for (let from = 0; from < events; from += BATCH) {
    const n = Math.min(BATCH, events - from);
    gen.fill(from, n, vs, ts);
    checksum = (checksum + ts[n - 1]!) % 1_000_000_007; // keeps the work observable
  }
  const cpu = process.cpuUsage(cpu0);
  return { eventsPerCpuSecond: Math.round(events / ((cpu.user + cpu.system) / 1e6)), checksum };
}

function runChild(srcDir: string): { eventsPerCpuSecond: number; checksum: number } {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', srcDir, '--events', String(events), '--seed', values.seed, '--rate', values.rate];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`generator run under ${srcDir} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { eventsPerCpuSecond: number; checksum: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (values.child !== undefined) {
  process.stdout.write(`${JSON.stringify(await measure(values.child))}\n`);
} else {
  const runs = Number(values.runs);
  const sides: [string, string][] = [['current', join(root, 'src')]];
  if (values.baseline !== undefined) sides.push(['baseline', join(resolve(values.baseline), 'src')]);
  const results = new Map<string, number[]>(sides.map(([name]) => [name, []]));
  const checksums = new Set<number>();
  console.log(`${events} events per run, seed ${values.seed}, rate ${values.rate}; events per CPU-second:`);
  for (let r = 0; r < runs; r++) {
    for (const [name, dir] of r % 2 === 0 ? sides : [...sides].reverse()) {
      const { eventsPerCpuSecond, checksum } = runChild(dir);
      checksums.add(checksum);
      results.get(name)!.push(eventsPerCpuSecond);
      console.log(`  run ${r + 1} ${name.padEnd(8)} ${eventsPerCpuSecond.toLocaleString('en-US')}`);
    }
  }
  if (checksums.size !== 1) throw new Error(`the sides generated different event times (checksums ${[...checksums].join(', ')})`);
  const line: Record<string, number> = {};
  for (const [name, xs] of results) line[`${name}Median`] = median(xs);
  if (values.baseline !== undefined) line.ratio = Math.round((line.currentMedian! / line.baselineMedian!) * 100) / 100;
  console.log(JSON.stringify({ bench: 'nexmark-generator', events, ...line }));
}
