/**
 * The keyed aggregation of `bench/parallel.ts`: generated clicks, keyed by user, a count
 * per user in 10 s tumbling event-time windows. A job module: worker threads of a
 * parallel run build their instance from the default export. Event time moves 1 ms per
 * 100 events, so 10M events make 10 windows per key. With `preAggregate`, each subtask
 * folds its clicks into partial counts per key and window before the keyed exchange.
 */
import { Job, WatermarkStrategy, callbackSink, count, generator, tumbling, type WindowResult } from '../../src/index.js';

export interface KeyedAggregationOptions {
  readonly events: number;
  readonly keys: number;
  readonly parallelism: number;
  /** Two-phase aggregation: partial counts per key before the keyed exchange (`preAggregate: true`). */
  readonly preAggregate?: boolean;
}

/** Event time starts at 2026-01-01T00:00:00Z: epoch milliseconds, as real event times are (beyond V8's small integers, so they are doubles, which costs the window steps some). */
const START = Date.UTC(2026, 0, 1);
/** Events per 10 s window: event time moves 1 ms per 100 events. */
export const EVENTS_PER_WINDOW = 10_000 * 100;

export function keyedAggregation(o: KeyedAggregationOptions, onResult?: (r: WindowResult<number, number>) => void): Job {
  const job = new Job({ name: 'bench-keyed-aggregation', parallelism: o.parallelism, module: import.meta.url, metrics: process.env.BENCH_METRICS === '1' ? true : false });
  job
    .source(
      // A 32-bit multiplicative hash spreads users evenly: exact at any i (i * 2654435761
      // in doubles rounds past 2^53, which left a few hundred users at 100M events).
      generator({ make: (i) => ({ user: (Math.imul(i, 2654435761) >>> 0) % o.keys, at: START + Math.floor(i / 100) }), count: o.events, timestamp: (e) => e.at }),
      { uid: 'clicks', watermarks: WatermarkStrategy.forMonotonousTimestamps() },
    )
    .keyBy('user')
    .window(tumbling('10s'))
    .aggregate(count(), { uid: 'count', preAggregate: o.preAggregate ?? false })
    .sinkTo(callbackSink<WindowResult<number, number>>((r) => onResult?.(r)), { uid: 'results' });
  return job;
}

export default (args: string[]) => keyedAggregation(JSON.parse(args[0]!) as KeyedAggregationOptions);
