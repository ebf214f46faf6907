/**
 * The job of `npm run bench:cluster` (bench/cluster/): JSON records `{key, ts, value}` from
 * a topic that is not partitioned by key, counted per key in 1 s tumbling event-time
 * windows, each window's final count written as `{key, windowStart, count}` to the output
 * topic (keyed by key), exactly-once. Run as cluster members by
 * `sluice run bench/jobs/cluster-window-count.ts --cluster … -- '<options as JSON>'`; its
 * Kafka Streams peer is bench/peers/kafka-streams.
 *
 * Event time: per-partition watermarks that trail the partition's highest timestamp by
 * `lateness` ms, the same bound as the peer's grace, so both accept the same disorder and
 * close a window at the same event time; a window's count is final when it fires (no
 * allowed lateness, no second firing).
 */
import { Job, count, kafkaSink, kafkaSource, tumbling } from '../../src/index.js';

export interface ClusterWindowCountOptions {
  readonly brokers: string;
  readonly input: string;
  readonly output: string;
  /** How far behind its partition's highest timestamp a record may be and still count (ms). */
  readonly lateness: number;
  /** Checkpoint (= transaction commit) interval, ms. */
  readonly checkpointMs: number;
}

/** An input record, as bench/cluster/input.ts writes it. */
export interface BenchEvent {
  readonly key: string;
  readonly ts: number;
  readonly value: number;
}

/** An output record: the final count of one key's window. */
export interface WindowCount {
  readonly key: string;
  readonly windowStart: number;
  readonly count: number;
}

export function clusterWindowCount(o: ClusterWindowCountOptions): Job {
  const job = new Job({ name: 'bench-cluster-window-count', delivery: 'exactly-once', checkpoints: { interval: o.checkpointMs } });
  job
    .source(
      kafkaSource<BenchEvent>({
        brokers: o.brokers,
        topic: o.input,
        groupId: 'unused-in-cluster-mode', // a member reads through the cluster's group
        startFrom: 'earliest',
        timestamp: (e) => e.ts,
        watermarks: { outOfOrderness: o.lateness },
      }),
      { uid: 'events' },
    )
    .keyBy('key')
    .window(tumbling<BenchEvent>('1s'))
    .aggregate(count(), { uid: 'count-per-key' })
    .map((r): WindowCount => ({ key: r.key as string, windowStart: r.start, count: r.value }), { uid: 'format' })
    .sinkTo(kafkaSink<WindowCount>({ brokers: o.brokers, topic: o.output, key: (w) => w.key }), { uid: 'out' });
  return job;
}

export default (args: string[]) => clusterWindowCount(JSON.parse(args[0]!) as ClusterWindowCountOptions);
