/**
 * The core suite: the three workloads every change to the runtime should keep fast.
 *
 * - map-filter: a stateless chain (map, filter, sink).
 * - keyed-count: keyBy then a running count per key (keyed state, one result per event).
 * - keyed-timers: a keyed process function with value state and one event-time timer per
 *   key and 1 s bucket, under a bounded out-of-orderness watermark.
 *
 * Each has a hand-written loop doing the same work on the same objects; the harness
 * checks that both produce the same number of results and the same checksum.
 */
import type { KeyedProcessFunction } from '../src/core/functions.js';
import { Job } from '../src/launch/job.js';
import { valueState } from '../src/state/descriptors.js';
import type { ValueState } from '../src/state/types.js';
import { WatermarkStrategy } from '../src/time/watermark-strategy.js';
import type { Outcome, Suite, Workload } from './harness.js';
import { CountingSink, indexedSource } from './io.js';

/** The event of every core workload. */
export interface Event {
  user: number;
  value: number;
  ts: number;
}

/** The number of distinct users (keys). */
export const USERS = 10_000;

/** Event i: user i mod 10,000, value i, timestamp i ms (so 1 s buckets close as events advance). */
export function makeEvent(i: number): Event {
  return { user: i % USERS, value: i, ts: i };
}

/**
 * Keeps an object reachable so that V8 must really allocate it. Without this, escape
 * analysis removes the event allocation from the plain loops (measured on Node 20: no
 * scavenges at all, and map-filter at ~260M events/s), while the Sluice side has to
 * materialise every event in a batch: the loops would no longer do the same work.
 */
export let retained: unknown;
function keep<T>(value: T): T {
  retained = value;
  return value;
}

const BUCKET_MS = 1000;

/** The end of the 1 s bucket that holds `ts` (an event-time timer fires when the watermark reaches it). */
function bucketEnd(ts: number): number {
  return Math.floor(ts / BUCKET_MS) * BUCKET_MS + BUCKET_MS - 1;
}

async function finish<T>(job: Job, sink: CountingSink<T>): Promise<Outcome> {
  await job.run();
  return { outputs: sink.outputs, checksum: sink.checksum };
}

// ---- (a) map -> filter -> sink ----

const double = (e: Event): Event => ({ user: e.user, value: e.value * 2, ts: e.ts });
const notMultipleOf3 = (e: Event): boolean => e.value % 3 !== 0;

const mapFilter: Workload = {
  name: 'map-filter',
  description: 'map {value*2} -> filter value%3 != 0 -> counting sink',
  target: 0.5,
  sluice(n) {
    const job = new Job({ name: 'bench-map-filter' });
    const sink = new CountingSink<Event>((e) => e.value);
    job.source(indexedSource(n, makeEvent), { uid: 'events' }).map(double).filter(notMultipleOf3).sinkTo(sink);
    return finish(job, sink);
  },
  loop(n) {
    let outputs = 0;
    let checksum = 0;
    for (let i = 0; i < n; i++) {
      const e = keep(makeEvent(i));
      const d = keep(double(e));
      if (notMultipleOf3(d)) {
        outputs++;
        checksum += d.value;
      }
    }
    return { outputs, checksum };
  },
};

// ---- (b) keyBy(user) -> running count ----

const keyedCount: Workload = {
  name: 'keyed-count',
  description: 'keyBy(user) -> aggregate running count -> counting sink (one result per event)',
  target: 0.25,
  sluice(n) {
    const job = new Job({ name: 'bench-keyed-count' });
    const sink = new CountingSink<number>((c) => c);
    job
      .source(indexedSource(n, makeEvent), { uid: 'events' })
      .keyBy('user')
      .aggregate<number, number>({ createAccumulator: () => 0, add: (_e, acc) => acc + 1, getResult: (acc) => acc }, { uid: 'count-per-user' })
      .sinkTo(sink);
    return finish(job, sink);
  },
  loop(n) {
    const counts = new Map<number, number>();
    let outputs = 0;
    let checksum = 0;
    for (let i = 0; i < n; i++) {
      const e = keep(makeEvent(i));
      const c = (counts.get(e.user) ?? 0) + 1;
      counts.set(e.user, c);
      outputs++;
      checksum += c;
    }
    return { outputs, checksum };
  },
};

// ---- (c) keyed process function: value state + one event-time timer per key and bucket ----

type Report = readonly [user: number, count: number];

function countThenReport(): KeyedProcessFunction<number, Event, Report> {
  let count!: ValueState<number>;
  return {
    open(ctx) {
      count = ctx.state(valueState<number>('count'));
    },
    processElement: (e, ctx) => {
      count.update((count.value() ?? 0) + 1);
      ctx.timerService.registerEventTimeTimer(bucketEnd(e.ts));
    },
    onTimer(_ts, ctx, out) {
      out.collect([ctx.key, count.value() ?? 0]);
    },
  };
}

const keyedTimers: Workload = {
  name: 'keyed-timers',
  description: 'watermarks (bounded, 0 ms) -> keyBy(user) -> process: ValueState count + event-time timer per 1 s bucket, timer emits (user, count)',
  target: 0.25,
  sluice(n) {
    const job = new Job({ name: 'bench-keyed-timers' });
    const sink = new CountingSink<Report>((r) => r[1]);
    const watermarks = WatermarkStrategy.forBoundedOutOfOrderness<Event>(0).withTimestampAssigner((e) => e.ts);
    job
      .source(indexedSource(n, makeEvent), { uid: 'events', watermarks })
      .keyBy('user')
      .process(countThenReport(), { uid: 'count-then-report' })
      .sinkTo(sink);
    return finish(job, sink);
  },
  loop(n) {
    const counts = new Map<number, number>();
    // Pending timers: bucket end -> users, in increasing bucket order (timestamps only grow).
    const buckets = new Map<number, Set<number>>();
    let nextDue = Number.POSITIVE_INFINITY;
    let maxTs = Number.NEGATIVE_INFINITY;
    let outputs = 0;
    let checksum = 0;
    const fireUpTo = (watermark: number): void => {
      for (const [end, users] of buckets) {
        if (end > watermark) {
          nextDue = end;
          return;
        }
        buckets.delete(end);
        for (const user of users) {
          const report: Report = keep([user, counts.get(user) ?? 0]);
          outputs++;
          checksum += report[1];
        }
      }
      nextDue = Number.POSITIVE_INFINITY;
    };
    for (let i = 0; i < n; i++) {
      const e = keep(makeEvent(i));
      const c = (counts.get(e.user) ?? 0) + 1;
      counts.set(e.user, c);
      const end = bucketEnd(e.ts);
      let users = buckets.get(end);
      if (users === undefined) {
        users = new Set();
        buckets.set(end, users);
        if (end < nextDue) nextDue = end;
      }
      users.add(e.user);
      // Watermark = highest timestamp - 0 ms delay - 1 (as the bounded out-of-orderness strategy).
      if (e.ts > maxTs) maxTs = e.ts;
      if (maxTs - 1 >= nextDue) fireUpTo(maxTs - 1);
    }
    fireUpTo(Number.POSITIVE_INFINITY); // end of input: the final watermark fires the rest
    return { outputs, checksum };
  },
};

export const coreSuite: Suite = {
  name: 'core',
  workloads: [mapFilter, keyedCount, keyedTimers],
};
