import { codecOf } from '../connectors/kafka/format.js';
import { FormatLifecycle } from '../formats/lifecycle.js';
import { kafkaRecord, type KafkaSink } from '../connectors/kafka/sink.js';
import type { Sink, SinkContext, SinkWriter } from '../connectors/sink.js';
import type { ClusterMember } from './member.js';

/** Records per send into the member's transaction. */
const CHUNK = 1024;

/**
 * A job's Kafka sink as a cluster member runs it: the same topic, key and format, written
 * in the member's open transaction, which commits with the checkpoint together with the
 * consumed offsets and the changelogs (exactly-once for `read_committed` readers). Writes
 * are awaited before the checkpoint barrier passes, so a commit holds every record that
 * came before it, and those after it wait for that commit (they belong to the next).
 */
export function memberKafkaSink<T>(sink: KafkaSink<T>, member: Promise<ClusterMember>): Sink<T> {
  return {
    kind: 'kafka',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `Kafka topic ${sink.topic}, in the cluster member's transactions`,
    createWriter: (ctx) => new MemberKafkaWriter<T>(ctx, sink, member),
  };
}

class MemberKafkaWriter<T> implements SinkWriter<T> {
  private readonly codec;
  private readonly lifecycle: FormatLifecycle;
  private member: ClusterMember | undefined;
  /** The last checkpoint barrier that reached this sink: what it writes from then on waits for that checkpoint's commit. */
  private barrier: number | undefined;

  constructor(
    private readonly ctx: SinkContext,
    private readonly sink: KafkaSink<T>,
    private readonly memberPromise: Promise<ClusterMember>,
  ) {
    this.codec = codecOf(sink.options.format, 'kafkaSink');
    this.lifecycle = new FormatLifecycle(this.codec);
  }

  async open(): Promise<void> {
    // Before the first encode: a Confluent format registers its writer's schema here.
    await this.lifecycle.open();
    this.member = await this.memberPromise;
  }

  async write(values: T[]): Promise<void> {
    const { topic, key, isDelete } = this.sink.options;
    const records = values.map((v) => kafkaRecord(v, topic, key, this.codec, this.ctx.uid, isDelete));
    for (let i = 0; i < records.length; i += CHUNK) await this.member!.send(records.slice(i, i + CHUNK), this.barrier);
  }

  /** Not a transaction of its own (the member's holds the records): only where the barrier is. */
  preCommit(checkpointId: number): undefined {
    this.barrier = checkpointId;
    return undefined;
  }

  async close(): Promise<void> {
    await this.lifecycle.close();
  }
}
