/**
 * The benchmark harness: options, timing, warm-up, repetitions, medians, the table and
 * the machine-readable lines. A suite is a list of workloads; each workload runs the same
 * work twice, once through Sluice and once as a hand-written loop, in the same process
 * and the same run, so that the ratio between them is what we track (not absolute
 * figures, which depend on the machine).
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What one side of a workload produced: the number of results and a checksum over them. */
export interface Outcome {
  /** Results that reached the sink (or the loop's equivalent). */
  readonly outputs: number;
  /** A sum over the results, so that the two sides are checked to have done the same work. */
  readonly checksum: number;
}

/** One workload: the same work through Sluice and as a plain loop. */
export interface Workload {
  /** Short id, used by `--only` and in the JSON lines. */
  readonly name: string;
  /** One line on what it does. */
  readonly description: string;
  /** The least Sluice/loop throughput ratio we aim for (0.5 = Sluice at half the loop's speed). */
  readonly target: number;
  sluice(events: number): Promise<Outcome>;
  loop(events: number): Outcome;
}

export interface Suite {
  readonly name: string;
  readonly workloads: readonly Workload[];
}

export interface BenchOptions {
  events: number;
  runs: number;
  warmup: boolean;
  only: string[] | undefined;
}

/** Measured figures of one workload, as printed in its JSON line. */
export interface WorkloadResult {
  suite: string;
  workload: string;
  events: number;
  runs: number;
  sluiceEventsPerSec: number;
  loopEventsPerSec: number;
  ratio: number;
  target: number;
  meetsTarget: boolean;
  outputs: number;
  /** Heap used after each measured Sluice run, after a full GC (MB): grows from run to run if something leaks. */
  sluiceHeapMB: number[];
  /** The most heap used seen during each measured Sluice run (MB, sampled every 10 ms): grows with --events if a run retains what it has processed. */
  sluicePeakHeapMB: number[];
  sluiceRunsMs: number[];
  loopRunsMs: number[];
  node: string;
}

const USAGE = `usage: npm run bench -- [--only name[,name…]] [--events N] [--runs N] [--no-warmup]`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', multiple: true },
      events: { type: 'string' },
      runs: { type: 'string' },
      'no-warmup': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const events = positive(values.events ?? '5000000', '--events');
  const runs = positive(values.runs ?? '3', '--runs');
  const only = values.only?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return { events, runs, warmup: !values['no-warmup'], only: only && only.length > 0 ? only : undefined };
}

function positive(text: string, what: string): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer, got '${text}'\n${USAGE}`);
  return n;
}

/**
 * A full garbage collection, so that heap figures show what is retained, not what is
 * waiting to be collected. `--expose-gc` cannot be passed through `tsx` portably, so the
 * flag is set at run time and `gc` taken from a fresh context (V8 exposes it there).
 */
const fullGc: () => void = (() => {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function heapUsedMB(): number {
  fullGc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed(f: () => Outcome | Promise<Outcome>): Promise<{ ms: number; outcome: Outcome }> {
  const start = performance.now();
  const outcome = await f();
  return { ms: performance.now() - start, outcome };
}

/**
 * Runs `f` while sampling heap used every 10 ms (the runtime yields to the event loop at
 * least that often), and returns the highest sample with `f`'s timing.
 */
async function timedWithPeakHeap(f: () => Promise<Outcome>): Promise<{ ms: number; outcome: Outcome; peakMB: number }> {
  let peak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const h = process.memoryUsage().heapUsed;
    if (h > peak) peak = h;
  }, 10);
  try {
    const r = await timed(f);
    return { ...r, peakMB: Math.max(peak, process.memoryUsage().heapUsed) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

function same(a: Outcome, b: Outcome): boolean {
  return a.outputs === b.outputs && a.checksum === b.checksum;
}

/** Prints what was run, where, and with what. */
export function printHeader(options: BenchOptions): void {
  const cmd = [process.execPath, ...process.execArgv, ...process.argv.slice(1)].join(' ');
  console.log(`command: ${cmd}`);
  console.log(`node ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}`);
  console.log(`events per workload: ${options.events.toLocaleString('en-US')}, ${options.warmup ? '1 warm-up + ' : ''}${options.runs} measured runs each side, median reported`);
  console.log('');
}

/**
 * Runs the workloads of a suite: per workload a warm-up of both sides, then `runs`
 * alternating measured runs (Sluice, loop, Sluice, loop, …), so that drift of the machine
 * hits both sides alike. Every run's results are checked against the loop's.
 */
export async function runSuite(suite: Suite, options: BenchOptions): Promise<WorkloadResult[]> {
  const chosen = suite.workloads.filter((w) => options.only === undefined || options.only.includes(w.name));
  const results: WorkloadResult[] = [];
  for (const w of chosen) {
    const n = options.events;
    process.stdout.write(`${suite.name}/${w.name}: ${w.description}\n`);
    if (options.warmup) {
      await w.sluice(n);
      w.loop(n);
    }
    const sluiceMs: number[] = [];
    const loopMs: number[] = [];
    const heap: number[] = [];
    const peaks: number[] = [];
    let reference: Outcome | undefined;
    for (let r = 0; r < options.runs; r++) {
      fullGc(); // so that the peak is this run's, not garbage left by the previous one
      const s = await timedWithPeakHeap(() => w.sluice(n));
      heap.push(heapUsedMB());
      peaks.push(s.peakMB);
      const l = await timed(() => w.loop(n));
      fullGc();
      if (!same(s.outcome, l.outcome)) {
        throw new Error(
          `${w.name}: Sluice and the loop disagree: Sluice ${JSON.stringify(s.outcome)}, loop ${JSON.stringify(l.outcome)}`,
        );
      }
      reference = l.outcome;
      sluiceMs.push(s.ms);
      loopMs.push(l.ms);
      process.stdout.write(
        `  run ${r + 1}: sluice ${fmtRate(n / (s.ms / 1000))}/s (${s.ms.toFixed(0)} ms, peak heap ${s.peakMB.toFixed(0)} MB, after ${heap[r]!.toFixed(1)} MB), loop ${fmtRate(n / (l.ms / 1000))}/s (${l.ms.toFixed(0)} ms)\n`,
      );
    }
    const sluiceRate = n / (median(sluiceMs) / 1000);
    const loopRate = n / (median(loopMs) / 1000);
    const ratio = sluiceRate / loopRate;
    results.push({
      suite: suite.name,
      workload: w.name,
      events: n,
      runs: options.runs,
      sluiceEventsPerSec: Math.round(sluiceRate),
      loopEventsPerSec: Math.round(loopRate),
      ratio: round(ratio, 3),
      target: w.target,
      meetsTarget: ratio >= w.target,
      outputs: reference!.outputs,
      sluiceHeapMB: heap.map((h) => round(h, 1)),
      sluicePeakHeapMB: peaks.map((h) => round(h, 0)),
      sluiceRunsMs: sluiceMs.map((x) => round(x, 1)),
      loopRunsMs: loopMs.map((x) => round(x, 1)),
      node: process.version,
    });
  }
  return results;
}

/** The summary table. */
export function printTable(results: readonly WorkloadResult[]): void {
  const header = ['workload', 'sluice ev/s', 'loop ev/s', 'sluice/loop', 'target', '', 'outputs', 'peak heap (MB)', 'heap after GC (MB)'];
  const rows = results.map((r) => [
    `${r.suite}/${r.workload}`,
    fmtRate(r.sluiceEventsPerSec),
    fmtRate(r.loopEventsPerSec),
    `${(r.ratio * 100).toFixed(1)}%`,
    `>= ${(r.target * 100).toFixed(0)}%`,
    r.meetsTarget ? 'ok' : 'BELOW',
    r.outputs.toLocaleString('en-US'),
    r.sluicePeakHeapMB.map((h) => h.toFixed(0)).join(' / '),
    r.sluiceHeapMB.map((h) => h.toFixed(1)).join(' / '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
}

/** One JSON line per workload, for tools that track the figures over time. */
export function printJsonLines(results: readonly WorkloadResult[]): void {
  for (const r of results) console.log(JSON.stringify(r));
}

function fmtRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)}M`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)}K`;
  return perSec.toFixed(0);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
