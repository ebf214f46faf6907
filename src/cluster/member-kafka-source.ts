import { codecOf } from '../connectors/kafka/format.js';
import { FormatLifecycle } from '../formats/lifecycle.js';
import type { KafkaSource } from '../connectors/kafka/source.js';
import { callTimestamp } from '../connectors/shared/timestamp.js';
import { PartitionWatermarks } from '../connectors/kafka/watermarks.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../connectors/source.js';
import { toMillis } from '../time/duration.js';
import type { ClusterMember } from './member.js';
import { MemberTopicReader } from './member-topic-reader.js';

/**
 * A job's Kafka source as a cluster member runs it: the same topic, format, timestamps and
 * watermarks, but its partitions come from the cluster's group (co-partitioned with the
 * member's other tasks) and its offsets are committed in the member's checkpoint
 * transactions, not kept in checkpoints. The source's own `groupId` is not used in
 * cluster mode; `startFrom` decides where a partition without a committed offset begins
 * (`'latest'` the end, otherwise the beginning), and `bounded` is ignored (a cluster runs
 * until stopped).
 */
export function memberKafkaSource<T>(source: KafkaSource<T>, member: Promise<ClusterMember>): Source<T> {
  return {
    kind: 'kafka',
    bounded: false,
    replayable: true,
    parallel: false,
    describe: () => `Kafka topic ${source.topic}, partitions from the cluster's group`,
    createReader: (ctx) => new MemberKafkaReader<T>(ctx, source, member),
  };
}

class MemberKafkaReader<T> implements SourceReader<T> {
  private reader: MemberTopicReader | undefined;
  private readonly codec;
  private readonly lifecycle: FormatLifecycle;
  private readonly watermarks: PartitionWatermarks | undefined;
  private assigned: readonly number[] = [];

  constructor(
    private readonly ctx: SourceContext,
    private readonly source: KafkaSource<T>,
    private readonly member: Promise<ClusterMember>,
  ) {
    const o = source.options;
    this.codec = codecOf(o.format, 'kafkaSource');
    this.lifecycle = new FormatLifecycle(this.codec);
    this.watermarks =
      o.watermarks &&
      new PartitionWatermarks(
        toMillis(o.watermarks.outOfOrderness, 'kafkaSource watermarks.outOfOrderness'),
        o.watermarks.idleTimeout === undefined ? Number.POSITIVE_INFINITY : toMillis(o.watermarks.idleTimeout, 'kafkaSource watermarks.idleTimeout'),
      );
  }

  async open(): Promise<void> {
    await this.lifecycle.open();
    const reader = new MemberTopicReader(await this.member, this.source.topic, this.source.options.startFrom === 'latest' ? 'latest' : 'earliest', this.ctx);
    await reader.open();
    this.reader = reader;
    await this.seedWatermarks(reader.partitions);
  }

  /**
   * Each partition's event time starts where its last read record left it: a partition
   * that moved to this member after its last record was read (a rebalance) would otherwise
   * hold the watermark back until new records come. The seed is never ahead of the
   * watermark the partition had (the highest timestamp read, not the last).
   */
  private async seedWatermarks(partitions: readonly number[]): Promise<void> {
    const watermarks = this.watermarks;
    if (!watermarks) return;
    const member = await this.member;
    const now = this.ctx.clock.now();
    watermarks.assign(partitions, now);
    this.assigned = partitions;
    for (const partition of partitions) {
      const last = await member.lastRecordBefore(this.source.topic, partition);
      if (!last || last.value === null) continue;
      let ts: number;
      await this.lifecycle.prepare([last.value]);
      try {
        ts = this.timestampOf(this.codec.decode(last.value), last.timestamp);
      } catch {
        continue; // a record that never decoded was a dead letter: no event time to start from
      }
      watermarks.observe(partition, ts, now);
    }
  }

  private timestampOf(value: T, recordTimestamp: bigint): number {
    const timestampOf = this.source.options.timestamp;
    return timestampOf ? callTimestamp(timestampOf, [value], 'the timestamp function of kafkaSource', value, this.ctx.uid) : Number(recordTimestamp);
  }

  async poll(): Promise<SourceBatch<T>> {
    const reader = this.reader!;
    const messages = await reader.take();
    const now = this.ctx.clock.now();
    if (this.watermarks && reader.partitions !== this.assigned) {
      this.assigned = reader.partitions;
      this.watermarks.assign(this.assigned, now);
    }
    // The format's prepare sees the batch before it is decoded (a Confluent format fetches the schemas its ids name).
    await this.lifecycle.prepare(messages.flatMap((m) => (m.value == null ? [] : [m.value])));
    const values: T[] = [];
    const timestamps: number[] = [];
    for (const m of messages) {
      let value: T;
      try {
        if (m.value == null) throw new Error('the record has no value (a tombstone)');
        value = this.codec.decode(m.value);
      } catch (e) {
        this.ctx.badRecord(m.value ?? new Uint8Array(), e, `${m.topic}/${m.partition}@${m.offset}`);
        continue;
      }
      const ts = this.timestampOf(value, m.timestamp);
      values.push(value);
      timestamps.push(ts);
      this.watermarks?.observe(m.partition, ts, now);
    }
    const batch: SourceBatch<T> = { values, timestamps };
    const watermark = this.watermarks?.advance(now);
    if (watermark !== undefined) batch.watermark = watermark;
    return batch;
  }

  snapshotPosition(checkpointId: number): unknown {
    this.reader?.snapshot(checkpointId);
    return undefined;
  }

  backlog(): number | undefined {
    return this.reader?.buffered;
  }

  async close(): Promise<void> {
    await this.reader?.close();
    await this.lifecycle.close();
  }
}
