import type { Source, SourceBatch, SourceContext, SourceReader } from '../connectors/source.js';
import type { ClusterMember } from './member.js';
import { MemberTopicReader } from './member-topic-reader.js';
import { RepartitionDecoder } from './repartition-decoder.js';
import type { ProducerState } from './watermark-merger.js';

/** What a repartition source reads. */
export interface RepartitionOrigin {
  readonly topic: string;
  /** The member whose consumer reads it (the cluster's group). */
  readonly member: Promise<ClusterMember>;
  readonly idleTimeoutMs: number;
}

/** A repartition source's position in a checkpoint: its producers' watermarks per partition (the offsets are committed in Kafka). */
export interface RepartitionPosition {
  readonly producers: ProducerState;
}

/**
 * The start of a sub-topology behind a keyed exchange: a source over the partitions of the
 * repartition topic that the group gives this member, with the watermark merged from the
 * producers' markers. Its offsets are committed with the member's checkpoints (in their
 * transactions), not kept in them. It never ends on its own (a cluster runs until stopped).
 */
export function repartitionSource<T>(origin: RepartitionOrigin): Source<T> {
  return {
    kind: 'repartition',
    bounded: false,
    replayable: true,
    parallel: false,
    describe: () => `repartition topic ${origin.topic}`,
    createReader: (ctx) => new RepartitionSourceReader<T>(ctx, origin),
  };
}

class RepartitionSourceReader<T> implements SourceReader<T> {
  private reader: MemberTopicReader | undefined;
  private readonly decoder: RepartitionDecoder<T>;
  private assigned: readonly number[] = [];
  /** The producers' watermarks of the checkpoint this attempt resumes from, until the first assignment takes them. */
  private restored: ProducerState | undefined;

  constructor(
    private readonly ctx: SourceContext,
    private readonly origin: RepartitionOrigin,
  ) {
    this.decoder = new RepartitionDecoder<T>(origin.idleTimeoutMs);
    this.restored = (ctx.restoredPosition as RepartitionPosition | undefined)?.producers;
  }

  async open(): Promise<void> {
    const reader = new MemberTopicReader(await this.origin.member, this.origin.topic, 'earliest', this.ctx);
    await reader.open();
    this.reader = reader;
  }

  async poll(): Promise<SourceBatch<T>> {
    const reader = this.reader!;
    const messages = await reader.take();
    const now = this.ctx.clock.now();
    if (reader.partitions !== this.assigned) {
      this.assigned = reader.partitions;
      this.decoder.assign(this.assigned);
      if (this.restored) this.decoder.restore(this.restored, now);
      this.restored = undefined;
    }
    const { records, watermark } = this.decoder.decode(messages, now);
    const batch: SourceBatch<T> = { values: records.map((r) => r.value), timestamps: records.map((r) => r.timestamp) };
    if (watermark !== undefined) batch.watermark = watermark;
    return batch;
  }

  /** The offsets go into the member's transaction; the position kept is the producers' watermarks, stored with each task's state. */
  snapshotPosition(checkpointId: number): RepartitionPosition {
    this.reader?.snapshot(checkpointId);
    return { producers: this.decoder.snapshot() };
  }

  backlog(): number | undefined {
    return this.reader?.buffered;
  }

  async close(): Promise<void> {
    await this.reader?.close();
  }
}
