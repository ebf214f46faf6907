/**
 * The hot-key window job of `bench/pre-aggregate.ts`: half the events on one key, the
 * other half spread over 10,000 keys, counted per key in 1 s tumbling event-time windows,
 * with or without `preAggregate`. Shaped as a job module (the default export builds the
 * job from the options as one JSON string), so that worker threads of a parallel run can
 * build their instance; runs at parallelism 2 also need the job's `module` option.
 */
import { Job, WatermarkStrategy, count, tumbling, type Sink, type WindowResult } from '../../src/index.js';
import { indexedSource } from '../io.js';

/** The keys besides the hot one. */
export const COLD_KEYS = 10_000;

export interface HotKeyEvent {
  user: number;
  value: number;
  ts: number;
}

/**
 * Event i: even i on the hot key 0, odd i on keys 1…10,000 (a stride coprime with 10,000,
 * so every cold key recurs every 20,000 events); 10 events per ms of event time, so a 1 s
 * window holds 5,000 events of the hot key and about one event of each of 5,000 cold keys.
 */
export function makeHotKeyEvent(i: number): HotKeyEvent {
  return { user: i % 2 === 0 ? 0 : 1 + (((i >> 1) * 7919) % COLD_KEYS), value: i, ts: Math.floor(i / 10) };
}

export interface HotKeyOptions {
  readonly events: number;
  readonly parallelism: number;
  readonly preAggregate: boolean;
}

export function hotKeyWindows(o: HotKeyOptions, sink?: Sink<WindowResult<number, number>>): Job {
  const job = new Job({ name: `bench-hot-key${o.preAggregate ? '-pre-aggregated' : ''}`, parallelism: o.parallelism, metrics: false });
  const watermarks = WatermarkStrategy.forMonotonousTimestamps<HotKeyEvent>().withTimestampAssigner((e) => e.ts);
  const counts = job
    .source(indexedSource(o.events, makeHotKeyEvent), { uid: 'events', watermarks })
    .keyBy('user')
    .window(tumbling<HotKeyEvent>('1s'))
    .aggregate(count(), { uid: 'count-per-second', preAggregate: o.preAggregate });
  // Worker threads build the job without the main thread's sink; theirs is never used.
  counts.sinkTo(sink ?? { kind: 'discard', createWriter: () => ({ write: () => {}, close: () => Promise.resolve() }) }, { uid: 'results' });
  return job;
}

export default (args: string[]) => hotKeyWindows(JSON.parse(args[0]!) as HotKeyOptions);
