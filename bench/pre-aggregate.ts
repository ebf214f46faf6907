/**
 * The pre-aggregation suite: a keyed tumbling count over a hot key (half the events on one
 * key, the rest over 10,000 keys; see `jobs/hot-key-windows.ts`), through the one-phase
 * window step and with `preAggregate: true` (a local step before the keyed exchange folds
 * each batch into one partial per key and window), beside the same hand-written loop.
 *
 * - window-hot-key: `keyBy(user).window(tumbling('1s')).aggregate(count())`.
 * - window-hot-key-pre-aggregated: the same with `{ preAggregate: true }`.
 *
 * Both at parallelism 1, where the exchange is a direct call and pre-aggregation saves
 * only the window step's per-record work on the hot key (about one record in two), at the
 * price of grouping every batch; the cold half still costs a window and a result per
 * record either way. {@link printPreAggregateRatio} prints the ratio of the two (no
 * target: tracked). The case pre-aggregation is for, the hot key's records all crossing
 * threads to one subtask, needs parallelism 2: `jobs/hot-key-windows.ts` is a job module
 * for that, to be measured once the parallel runtime's thread channels are in.
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

async function run(n: number, preAggregate: boolean): Promise<Outcome> {
  const sink = new CountingSink<Result>(weigh);
  await hotKeyWindows({ events: n, parallelism: 1, preAggregate }, sink).run();
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
    const e2 = e.ts - (e.ts % SIZE) + SIZE;
    if (e2 !== end) {
      if (counts.size > 0) fire();
      end = e2;
    }
    counts.set(e.user, (counts.get(e.user) ?? 0) + 1);
  }
  if (counts.size > 0) fire();
  return { outputs, checksum };
}

const description = (pre: boolean) =>
  `watermarks -> keyBy(user: 50% one key, 50% over ${COLD_KEYS.toLocaleString('en-US')}) -> window(tumbling 1s).aggregate(count${pre ? ', preAggregate' : ''}) -> counting sink`;

const onePhase: Workload = { name: 'window-hot-key', description: description(false), target: 0, sluice: (n) => run(n, false), loop };
const preAggregated: Workload = { name: 'window-hot-key-pre-aggregated', description: description(true), target: 0, sluice: (n) => run(n, true), loop };

export const preAggregateSuite: Suite = { name: 'pre-aggregate', workloads: [onePhase, preAggregated] };

/** Prints events/s of both and their ratio (pre-aggregated ÷ one-phase), when both ran, with a JSON line. */
export function printPreAggregateRatio(results: readonly WorkloadResult[]): void {
  const find = (name: string) => results.find((r) => r.suite === preAggregateSuite.name && r.workload === name);
  const one = find(onePhase.name);
  const two = find(preAggregated.name);
  if (one === undefined || two === undefined) return;
  const ratio = two.sluiceEventsPerSec / one.sluiceEventsPerSec;
  const rate = (r: WorkloadResult) => `${(r.sluiceEventsPerSec / 1e6).toFixed(2)}M events/s`;
  console.log(`pre-aggregate, hot key, parallelism 1: one-phase ${rate(one)}, pre-aggregated ${rate(two)}: ${ratio.toFixed(2)}x`);
  console.log(JSON.stringify({ suite: preAggregateSuite.name, derived: 'pre-aggregated-over-one-phase', parallelism: 1, ratio: Math.round(ratio * 1000) / 1000 }));
  console.log('');
}
