import { Job, type JobOptions } from '../../src/launch/job.js';
import { OutputTag } from '../../src/core/output-tag.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { collectSink } from '../../src/connectors/collect/index.js';
import { generator } from '../../src/connectors/generator/index.js';
import type { Sink } from '../../src/connectors/sink.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { count } from '../../src/window/aggregates/count.js';
import { tumbling } from '../../src/window/assigners/tumbling.js';

export interface Ev {
  readonly k: string;
  readonly at: number;
}

/**
 * Events in order over 2,000 ms of event time on 5 keys, then 10 records far behind the
 * watermark (late), and 3 records that make the map throw ('boom').
 */
export function events(): Ev[] {
  const base = Date.now() - 60_000;
  const out: Ev[] = [];
  for (let i = 0; i < 2000; i++) out.push({ k: `k${i % 5}`, at: base + i });
  for (let i = 0; i < 10; i++) out.push({ k: 'k0', at: base + i });
  for (let i = 0; i < 3; i++) out.push({ k: 'boom', at: base + 2000 + i });
  return out;
}

/**
 * A job that moves most metrics: a keyed reduce (state keys), two event-time windows
 * (one drops late records, one sends them to a side output), checkpoints on, sinks
 * behind channels (latency). A throwing map under the dead-letter policy is in
 * {@link errorsJob}: dead letters and checkpoints together do not finish (see the report).
 */
export function metricsJob(options: JobOptions & { dir: string }): { job: Job; out: ReturnType<typeof collectSink<unknown>> } {
  const { dir, ...rest } = options;
  const job = new Job({ name: 'metrics-job', checkpoints: { interval: '20ms', dir }, batchSize: 64, ...rest });
  const out = collectSink<unknown>();
  const lateTag = new OutputTag<Ev>('late');
  const input = job
    .source(fromCollection(events().filter((e) => e.k !== 'boom'), { timestamps: (e) => e.at }), { uid: 'events', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0) })
    .map((e) => e, { uid: 'check' });
  input.keyBy((e) => e.k).reduce((a, b) => (a.at > b.at ? a : b), { uid: 'latest' }).sinkTo(out, { uid: 'latest-out' });
  input.keyBy((e) => e.k).window(tumbling(100)).aggregate(count<Ev>(), { uid: 'drop-late' }).sinkTo(out, { uid: 'counts-out' });
  const windowed = input.keyBy((e) => e.k).window(tumbling(100)).sideOutputLateData(lateTag).aggregate(count<Ev>(), { uid: 'side-late' });
  windowed.sinkTo(out, { uid: 'side-counts-out' });
  windowed.sideOutput(lateTag).sinkTo(out, { uid: 'late-out' });
  return { job, out };
}

/** A map that throws on the 'boom' records, under the dead-letter policy. */
export function errorsJob(options: JobOptions = {}): { job: Job; out: ReturnType<typeof collectSink<unknown>> } {
  const job = new Job({ name: 'errors-job', onError: 'dead-letter', ...options });
  const out = collectSink<unknown>();
  job
    .source(fromCollection(events()), { uid: 'events' })
    .map(
      (e) => {
        if (e.k === 'boom') throw new Error('boom');
        return e;
      },
      { uid: 'check' },
    )
    .sinkTo(out, { uid: 'out' });
  job.deadLetters().sinkTo(out, { uid: 'dead-out' });
  return { job, out };
}

/** A sink whose writes take `ms` each: its upstream waits for room (backpressure). */
export function slowSink<T>(ms: number): Sink<T> {
  return {
    kind: 'slow',
    createWriter: () => ({
      write: () => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      close: async () => {},
    }),
  };
}

/** An unbounded, paced job (for the server and dashboard): clicks and views, unioned, counted per key in 200 ms windows. */
export function liveJob(options: JobOptions & { dir: string }): Job {
  const { dir, ...rest } = options;
  const job = new Job({ name: 'live', checkpoints: { interval: '300ms', dir }, ...rest });
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(50).withTimestampAssigner((e) => e.at);
  const clicks = job.source(generator({ make: (i) => ({ k: `user-${i % 7}`, at: Date.now() }), ratePerSecond: 2000 }), { uid: 'clicks', watermarks: strategy });
  const views = job.source(generator({ make: (i) => ({ k: `user-${i % 5}`, at: Date.now() }), ratePerSecond: 1000 }), { uid: 'views', watermarks: strategy });
  clicks
    .union(views)
    .keyBy((e) => e.k)
    .window(tumbling(200))
    .aggregate(count<Ev>(), { uid: 'per-user' })
    .sinkTo(collectSink<unknown>(), { uid: 'counts' });
  return job;
}

/** Two sources unioned into a slow sink: the union runs in its own task, so the sources wait for room (backpressure). */
export function backpressureJob(options: JobOptions = {}): Job {
  const job = new Job({ name: 'slow', channelCapacity: 1, batchSize: 16, ...options });
  const a = job.source(fromCollection(events()), { uid: 'a' });
  const b = job.source(fromCollection(events()), { uid: 'b' });
  a.union(b).sinkTo(slowSink(5), { uid: 'slow-out' });
  return job;
}
