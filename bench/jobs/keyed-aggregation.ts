/**
 * The keyed aggregation of `bench/parallel.ts`: generated clicks, keyed by user, a count
 * per user in 10 s tumbling event-time windows. A job module: worker threads of a
 * parallel run build their instance from the default export. Event time moves 1 ms per 100 events, so 10M events make 10 windows per key.
 */
import { Job, WatermarkStrategy, callbackSink, count, generator, tumbling } from '../../src/index.js';

export interface KeyedAggregationOptions {
  readonly events: number;
  readonly keys: number;
  readonly parallelism: number;
}

export function keyedAggregation(o: KeyedAggregationOptions, onResult?: () => void): Job {
  const job = new Job({ name: 'bench-keyed-aggregation', parallelism: o.parallelism, module: import.meta.url, metrics: process.env.BENCH_METRICS === '1' ? true : false });
  job
    .source(
      generator({ make: (i) => ({ user: (i * 2654435761) % o.keys, at: Math.floor(i / 100) }), count: o.events, timestamp: (e) => e.at }),
      { uid: 'clicks', watermarks: WatermarkStrategy.forMonotonousTimestamps() },
    )
    .keyBy('user')
    .window(tumbling('10s'))
    .aggregate(count(), { uid: 'count' })
    .sinkTo(callbackSink(() => onResult?.()), { uid: 'results' });
  return job;
}

export default (args: string[]) => keyedAggregation(JSON.parse(args[0]!) as KeyedAggregationOptions);
