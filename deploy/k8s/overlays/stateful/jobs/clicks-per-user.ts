/**
 * The job of the `stateful` overlay: clicks per user per minute of event time, checkpointed
 * every 30 s to the pod's volume (.sluice/checkpoints/clicks-per-user/). Made-up clicks stand
 * in for a real source here (Kafka, NATS, …). `module: import.meta.url` lets the worker
 * threads of `--parallelism 2` build the same job.
 */
import { Job, WatermarkStrategy, count, generator, tumbling } from 'sluice';

interface Click {
  user: string;
  page: string;
  at: number;
}

export default function job(): Job {
  const job = new Job({ name: 'clicks-per-user', module: import.meta.url, checkpoints: { interval: '30s' } });
  job
    .source(generator<Click>({ make: (i) => ({ user: `u${(i * 7919) % 1000}`, page: '/', at: Date.now() }), ratePerSecond: 500 }), {
      uid: 'clicks',
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Click>('5s').withTimestampAssigner((c) => c.at),
    })
    .keyBy('user')
    .window(tumbling('1m'))
    .aggregate(count(), { uid: 'clicks-per-user' })
    .print();
  return job;
}
