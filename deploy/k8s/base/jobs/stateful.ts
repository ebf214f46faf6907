/**
 * The stateful example job of the Kubernetes base (run by the StatefulSet): page views per
 * page in 10-second event-time windows, checkpointed every 10 s under
 * .sluice/checkpoints/page-views/, which is the pod's persistent volume. A restarted pod
 * resumes from the latest checkpoint; a stopped one leaves a savepoint under
 * .sluice/savepoints/ (the image runs `sluice run --savepoint-on-stop`). The ConfigMap
 * `sluice-jobs` holds this file as `stateful.ts`, mounted as /app/jobs/job.ts.
 */
import { Job, WatermarkStrategy, count, generator, tumbling } from 'sluice';

interface Click {
  user: string;
  page: string;
  at: number;
}

const PAGES = ['/', '/pricing', '/docs', '/signup'];

export default function job(): Job {
  const job = new Job({ name: 'page-views', checkpoints: { interval: '10s' } });
  job
    .source(generator<Click>({ make: (i) => ({ user: `u${(i * 31) % 100}`, page: PAGES[i % PAGES.length]!, at: Date.now() }), ratePerSecond: 100 }), {
      uid: 'clicks',
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Click>('2s').withTimestampAssigner((c) => c.at),
    })
    .keyBy('page')
    .window(tumbling('10s'))
    .aggregate(count(), { uid: 'views-per-page' })
    .print();
  return job;
}
