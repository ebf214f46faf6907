/**
 * The joins suite: an interval join of two generated streams beside a hand-written loop
 * doing the same join.
 *
 * - interval-join: `--events` records in all, half left and half right, 10,000 keys, ten
 *   records per millisecond with up to 60 ms of disorder (watermarks tolerate 100 ms, so
 *   none is late), joined with lower -1 s and upper +1 s: each left record meets about one
 *   right record. The result is `a.value + b.value`.
 *
 * The loop keeps per key a buffer of each side's records and drops expired ones when it
 * touches the key, with the same rule as the join (a record goes once the watermark
 * passes the last time it can match), so both sides produce the same pairs.
 */
import { Job } from '../src/launch/job.js';
import { WatermarkStrategy } from '../src/time/watermark-strategy.js';
import type { Outcome, Suite, Workload } from './harness.js';
import { CountingSink, indexedSource } from './io.js';

export interface JoinEvent {
  key: number;
  value: number;
  ts: number;
}

const KEYS = 10_000;
const LOWER = -1_000;
const UPPER = 1_000;
const DISORDER = 100;

/** Record i of the whole input (even i left, odd i right): ten per millisecond, every seventh 60 ms late. */
export function makeJoinEvent(i: number): JoinEvent {
  return { key: (i >> 1) % KEYS, value: i, ts: Math.floor(i / 10) - (i % 7 === 0 ? 60 : 0) };
}

export let retained: unknown;
function keep<T>(value: T): T {
  retained = value;
  return value;
}

const intervalJoin: Workload = {
  name: 'interval-join',
  description: 'two sources (half the events each), keyBy(key) x2 -> intervalJoin between(-1s, +1s) -> counting sink (a.value + b.value)',
  target: 0.2,
  async sluice(n) {
    const job = new Job({ name: 'bench-interval-join' });
    const sink = new CountingSink<number>((x) => x);
    const watermarks = () => WatermarkStrategy.forBoundedOutOfOrderness<JoinEvent>(DISORDER).withTimestampAssigner((e) => e.ts);
    const half = n >> 1;
    const left = job.source(indexedSource(n - half, (i) => makeJoinEvent(2 * i)), { uid: 'left', watermarks: watermarks() });
    const right = job.source(indexedSource(half, (i) => makeJoinEvent(2 * i + 1)), { uid: 'right', watermarks: watermarks() });
    left
      .keyBy((e) => e.key)
      .intervalJoin(right.keyBy((e) => e.key))
      .between(LOWER, UPPER)
      .process<number>((a, b, _ctx, out) => out.collect(a.value + b.value), { uid: 'join' })
      .sinkTo(sink);
    await job.run();
    return { outputs: sink.outputs, checksum: sink.checksum };
  },
  loop(n) {
    interface Buffers {
      left: JoinEvent[];
      right: JoinEvent[];
    }
    const byKey = new Map<number, Buffers>();
    let maxLeft = Number.NEGATIVE_INFINITY;
    let maxRight = Number.NEGATIVE_INFINITY;
    let outputs = 0;
    let checksum = 0;
    for (let i = 0; i < n; i++) {
      const e = keep(makeJoinEvent(i));
      const isLeft = (i & 1) === 0;
      if (isLeft) maxLeft = Math.max(maxLeft, e.ts);
      else maxRight = Math.max(maxRight, e.ts);
      const watermark = Math.min(maxLeft, maxRight) - DISORDER - 1;
      let b = byKey.get(e.key);
      if (b === undefined) {
        b = { left: [], right: [] };
        byKey.set(e.key, b);
      }
      // Expired: no record at or above the watermark can match them any more.
      if (b.left.length > 0 && b.left[0]!.ts + UPPER < watermark) b.left = b.left.filter((x) => x.ts + UPPER >= watermark);
      if (b.right.length > 0 && b.right[0]!.ts - LOWER < watermark) b.right = b.right.filter((x) => x.ts - LOWER >= watermark);
      if (isLeft) {
        for (const r of b.right) {
          if (r.ts >= e.ts + LOWER && r.ts <= e.ts + UPPER) {
            outputs++;
            checksum += e.value + r.value;
          }
        }
        b.left.push(e);
      } else {
        for (const l of b.left) {
          if (e.ts >= l.ts + LOWER && e.ts <= l.ts + UPPER) {
            outputs++;
            checksum += l.value + e.value;
          }
        }
        b.right.push(e);
      }
    }
    return { outputs, checksum };
  },
};

export const joinsSuite: Suite = {
  name: 'joins',
  workloads: [intervalJoin],
};
