import { SluiceError } from '../../errors/index.js';
import { toMillis, type Duration } from '../../time/duration.js';

// Apart from `sink-topic.ts`, which takes the Kafka client: the sink's options (and so the
// package's main declarations) name this type, and must name no Kafka client type.

/** How {@link kafkaSink} creates its topic when it does not exist (`createTopic`). */
export interface KafkaSinkTopic {
  /** Partitions (default 1). */
  partitions?: number;
  /** Replication factor (default 1). */
  replicationFactor?: number;
  /** `retention.ms`: how long the broker keeps records; `'forever'` is -1. Default: the broker's (7 days). */
  retention?: Duration | 'forever';
  /** `cleanup.policy=compact`: keep the latest record per key (with `retention`, `compact,delete`). Default false. */
  compacted?: boolean;
}

/** The topic configs a declaration asks for, checked. */
export function sinkTopicConfigs(spec: KafkaSinkTopic, topic: string): Array<{ name: string; value: string }> {
  const who = `kafkaSink '${topic}' createTopic`;
  for (const [k, v] of [
    ['partitions', spec.partitions],
    ['replicationFactor', spec.replicationFactor],
  ] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new SluiceError('INVALID_ARGUMENT', `${who}: ${k} must be a positive integer, got ${String(v)}`);
  }
  const configs: Array<{ name: string; value: string }> = [];
  if (spec.retention !== undefined) configs.push({ name: 'retention.ms', value: spec.retention === 'forever' ? '-1' : String(toMillis(spec.retention, `${who} retention`)) });
  const policy = spec.compacted ? (spec.retention !== undefined && spec.retention !== 'forever' ? 'compact,delete' : 'compact') : 'delete';
  configs.push({ name: 'cleanup.policy', value: policy });
  return configs;
}
