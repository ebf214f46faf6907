/**
 * The stateless example job of the Kubernetes base (run by the Deployment): no state, no
 * checkpoints, nothing to keep when the pod goes. Made-up sensor readings; the hot ones are
 * printed as alerts. Put your own job in its place: the ConfigMap `sluice-jobs` holds this
 * file as `stateless.ts`, mounted as /app/jobs/job.ts.
 */
import { Job, generator } from 'sluice';

interface Reading {
  sensor: string;
  celsius: number;
  at: number;
}

export default function job(): Job {
  const job = new Job({ name: 'hot-sensors' });
  job
    .source(generator<Reading>({ make: (i) => ({ sensor: `s${i % 10}`, celsius: 20 + ((i * 7919) % 150) / 10, at: Date.now() }), ratePerSecond: 50 }), {
      uid: 'readings',
    })
    .filter((r) => r.celsius > 34)
    .map((r) => ({ alert: 'hot', sensor: r.sensor, celsius: r.celsius, at: new Date(r.at).toISOString() }))
    .print();
  return job;
}
