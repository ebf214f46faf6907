/**
 * The restore job of `npm run bench:cluster` (bench/cluster/restore.ts): a running count
 * per key, so that every distinct key of the input is one entry of keyed state, kept in
 * the cluster's changelog topic. It writes nothing (the counts are filtered out before the
 * sink): what is measured is how fast a member that takes the tasks over restores them.
 */
import { Job, count, kafkaSink, kafkaSource } from '../../src/index.js';
import type { BenchEvent } from './cluster-window-count.js';

export interface ClusterKeyCountOptions {
  readonly brokers: string;
  readonly input: string;
  readonly output: string;
  readonly checkpointMs: number;
}

export function clusterKeyCount(o: ClusterKeyCountOptions): Job {
  const job = new Job({ name: 'bench-cluster-key-count', delivery: 'exactly-once', checkpoints: { interval: o.checkpointMs } });
  job
    .source(kafkaSource<BenchEvent>({ brokers: o.brokers, topic: o.input, groupId: 'unused-in-cluster-mode', startFrom: 'earliest', timestamp: (e) => e.ts }), { uid: 'events' })
    .keyBy('key')
    .aggregate(count(), { uid: 'count-per-key' })
    .filter(() => false, { uid: 'none' })
    .sinkTo(kafkaSink<number>({ brokers: o.brokers, topic: o.output }), { uid: 'out' });
  return job;
}

export default (args: string[]) => clusterKeyCount(JSON.parse(args[0]!) as ClusterKeyCountOptions);
