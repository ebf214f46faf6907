/**
 * The pre-aggregation suite: a keyed tumbling count over a hot key (half the events on one
 * key, the rest over 10,000 keys; see `jobs/hot-key-windows.ts`), through the one-phase
 * window step and with `preAggregate: true` (a local step before the keyed exchange folds
 * each batch into one partial per key and window), beside the same hand-written loop.
 *
 * - window-hot-key, window-hot-key-pre-aggregated: at parallelism 1, where the exchange is
 *   a direct call and pre-aggregation saves only the window step's per-record work on the
 *   hot key (about one record in two), at the price of grouping every batch; the cold
 *   half costs a window and a result per record either way.
 * - window-hot-key-p2, window-hot-key-pre-aggregated-p2: at parallelism 2 (two readers,
 *   worker threads). One-phase, every hot-key record crosses to the one subtask owning the
 *   key; pre-aggregated, each reader's thread folds them first and a few partials cross.
 *   The loop is the same single-threaded one, so the "sluice/loop" column can pass 100%.
 *
 * {@link printPreAggregateRatio} prints events/s and the ratio pre-aggregated ÷ one-phase
 * at each parallelism, and CPU time per event (no target: tracked).
 */
import type { WindowResult } from '../src/window/window-function.js';
import { COLD_KEYS, hotKeyWindows, makeHotKeyEvent } from './jobs/hot-key-windows.js';
import type { Outcome, Suite, Workload, WorkloadResult } from './harness.js';
import { CountingSink } from './io.js';

/** Keeps an object reachable so that V8 must really allocate it (see `retained` in core.ts). */
export let retained: unknown;
function keep<T>(value: T): T {
  retained = value;
  return value;
}

type Result = WindowResult<number, number>;
const weigh = (r: Result): number => r.value + r.end + r.key;
const SIZE = 1_000;
/** Events in the runs that measure the fixed cost of a parallel run (starting worker threads, which load the job module). */
const STARTUP_EVENTS = 1_000;

/**
 * CPU time per event (ns, over all threads of the process) of each full-size run, by
 * workload: on a small machine shared with other work, wall time swings with the load
 * and CPU time much less.
 */
const cpuPerEvent = new Map<string, number[]>();

async function run(name: string, n: number, parallelism: number, preAggregate: boolean): Promise<Outcome> {
  const sink = new CountingSink<Result>(weigh);
  const options = { events: n, parallelism, preAggregate };
  const cpu0 = process.cpuUsage();
  await hotKeyWindows(options, sink).run({ moduleArgs: [JSON.stringify(options)] });
  const cpu = process.cpuUsage(cpu0);
  if (n > STARTUP_EVENTS) cpuPerEvent.set(name, [...(cpuPerEvent.get(name) ?? []), ((cpu.user + cpu.system) * 1000) / n]);
  return { outputs: sink.outputs, checksum: sink.checksum };
}

/** Counts per window end and key; a window fires when the (monotonous) watermark passes its end. */
function loop(n: number): Outcome {
  let outputs = 0;
  let checksum = 0;
  let end = Number.NEGATIVE_INFINITY;
  let counts = new Map<number, number>();
  const fire = () => {
    for (const [key, c] of counts) {
      const r = keep<Result>({ key, start: end - SIZE, end, value: c, timing: 'on-time', isUpdate: false });
      outputs++;
      checksum += weigh(r);
    }
    counts = new Map();
  };
  for (let i = 0; i < n; i++) {
    const e = keep(makeHotKeyEvent(i));
    // Timestamps never decrease, so the window of e.ts - e.ts % SIZE is the only open one.
    const windowEnd = e.ts - (e.ts % SIZE) + SIZE;
    if (windowEnd !== end) {
      if (counts.size > 0) fire();
      end = windowEnd;
    }
    counts.set(e.user, (counts.get(e.user) ?? 0) + 1);
  }
  if (counts.size > 0) fire();
  return { outputs, checksum };
}

const description = (pre: boolean, parallelism: number) =>
  `watermarks -> keyBy(user: 50% one key, 50% over ${COLD_KEYS.toLocaleString('en-US')}) -> window(tumbling 1s).aggregate(count${pre ? ', preAggregate' : ''}) -> counting sink, parallelism ${parallelism}`;

const workload = (pre: boolean, parallelism: number): Workload => {
  const name = `window-hot-key${pre ? '-pre-aggregated' : ''}${parallelism > 1 ? `-p${parallelism}` : ''}`;
  return { name, description: description(pre, parallelism), target: 0, sluice: (n) => run(name, n, parallelism, pre), loop };
};
const pairs = [1, 2].map((p) => ({ parallelism: p, one: workload(false, p), two: workload(true, p) }));

export const preAggregateSuite: Suite = { name: 'pre-aggregate', workloads: pairs.flatMap((p) => [p.one, p.two]) };

/** The fixed cost of a run of `w` (ms): the best of three runs of {@link STARTUP_EVENTS} events. */
async function startupMs(w: Workload): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await w.sluice(STARTUP_EVENTS);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Prints events/s with and without pre-aggregation and their ratio, at each parallelism
 * where both ran, with JSON lines. Above parallelism 1 also the steady rates: the
 * median run minus the fixed start-up of worker threads (measured here on small runs).
 */
export async function printPreAggregateRatio(results: readonly WorkloadResult[]): Promise<void> {
  const find = (w: Workload) => results.find((r) => r.suite === preAggregateSuite.name && r.workload === w.name);
  const rate = (perSec: number) => `${(perSec / 1e6).toFixed(2)}M events/s`;
  let printed = false;
  for (const p of pairs) {
    const one = find(p.one);
    const two = find(p.two);
    if (one === undefined || two === undefined) continue;
    const ratio = two.sluiceEventsPerSec / one.sluiceEventsPerSec;
    let line = `pre-aggregate, hot key, parallelism ${p.parallelism}: one-phase ${rate(one.sluiceEventsPerSec)}, pre-aggregated ${rate(two.sluiceEventsPerSec)}: ${ratio.toFixed(2)}x`;
    const json: Record<string, unknown> = { suite: preAggregateSuite.name, derived: 'pre-aggregated-over-one-phase', parallelism: p.parallelism, ratio: Math.round(ratio * 1000) / 1000 };
    if (p.parallelism > 1) {
      const fixed = [await startupMs(p.one), await startupMs(p.two)];
      const steady = [one, two].map((r, i) => r.events / ((median(r.sluiceRunsMs) - fixed[i]!) / 1000));
      const steadyRatio = steady[1]! / steady[0]!;
      line += `; steady (less start-up ${fixed.map((f) => `${(f / 1000).toFixed(2)}s`).join(' / ')}): ${rate(steady[0]!)} vs ${rate(steady[1]!)}: ${steadyRatio.toFixed(2)}x`;
      Object.assign(json, { startupMs: fixed.map(Math.round), steadyEventsPerSec: steady.map(Math.round), steadyRatio: Math.round(steadyRatio * 1000) / 1000 });
    }
    const cpu = [p.one, p.two].map((w) => median(cpuPerEvent.get(w.name) ?? [Number.NaN]));
    line += `; CPU per event (all threads, median run): ${cpu.map((c) => `${c.toFixed(0)} ns`).join(' vs ')}, one-phase ÷ pre-aggregated ${(cpu[0]! / cpu[1]!).toFixed(2)}x`;
    Object.assign(json, { cpuNsPerEvent: cpu.map(Math.round), cpuRatio: Math.round((cpu[0]! / cpu[1]!) * 1000) / 1000 });
    console.log(line);
    console.log(JSON.stringify(json));
    printed = true;
  }
  if (printed) console.log('');
}
