/**
 * The hot-key window job of `bench/pre-aggregate.ts`: half the events on one key, the
 * other half spread over 10,000 keys, counted per key in 1 s tumbling event-time windows,
 * with or without `preAggregate`. A job module: worker threads of a parallel run build
 * their instance from the default export (called with the options as one JSON string).
 */
import { Job, WatermarkStrategy, count, generator, tumbling, type Sink, type WindowResult } from '../../src/index.js';

/** The keys besides the hot one. */
export const COLD_KEYS = 10_000;

export interface HotKeyEvent {
  user: number;
  value: number;
  ts: number;
}

/**
 * Event i: i mod 4 in {0, 1} on the hot key 0 (so that each of two parallel readers,
 * which make the even and the odd events, makes half hot ones), the others on keys
 * 1…10,000 (a stride coprime with 10,000: every cold key recurs every 20,000 events);
 * 10 events per ms of event time, so a 1 s window holds 5,000 events of the hot key and
 * about one event of each of 5,000 cold keys.
 */
export function makeHotKeyEvent(i: number): HotKeyEvent {
  if (i % 4 < 2) return { user: 0, value: i, ts: Math.floor(i / 10) };
  const cold = (i >> 2) * 2 + (i & 1); // the how-manieth cold event this is
  return { user: 1 + ((cold * 7919) % COLD_KEYS), value: i, ts: Math.floor(i / 10) };
}

export interface HotKeyOptions {
  readonly events: number;
  readonly parallelism: number;
  readonly preAggregate: boolean;
}

/** The job; `sink` only in the main thread (the sink runs there), worker threads discard. */
export function hotKeyWindows(o: HotKeyOptions, sink?: Sink<WindowResult<number, number>>): Job {
  const job = new Job({ name: `bench-hot-key${o.preAggregate ? '-pre-aggregated' : ''}`, parallelism: o.parallelism, module: import.meta.url, metrics: false });
  const events = generator({ make: makeHotKeyEvent, count: o.events, timestamp: (e) => e.ts });
  job
    .source(events, { uid: 'events', watermarks: WatermarkStrategy.forMonotonousTimestamps() })
    .keyBy('user')
    .window(tumbling<HotKeyEvent>('1s'))
    .aggregate(count(), { uid: 'count-per-second', preAggregate: o.preAggregate })
    .sinkTo(sink ?? { kind: 'discard', createWriter: () => ({ write: () => {}, close: () => Promise.resolve() }) }, { uid: 'results' });
  return job;
}

export default (args: string[]) => hotKeyWindows(JSON.parse(args[0]!) as HotKeyOptions);
