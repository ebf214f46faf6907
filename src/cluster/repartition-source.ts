import type { Source, SourceBatch, SourceContext, SourceReader } from '../connectors/source.js';
import { wait } from '../connectors/shared/wait.js';
import { RepartitionReader } from './repartition-reader.js';

/** What a repartition source reads, known once the cluster's topics are ready. */
export interface RepartitionOrigin {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** The consumer group of the keyed sub-topology's tasks. */
  readonly groupId: string;
  readonly idleTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly ready: Promise<unknown>;
}

/**
 * The start of a sub-topology behind a keyed exchange: a source over the partitions of the
 * repartition topic that the group assigns to this member, with the watermark merged from
 * the producers' markers. Offsets are committed when a checkpoint completes (the
 * checkpoint's barrier passed every step after it, sinks included: at-least-once). It
 * never ends on its own (a cluster runs until stopped).
 */
export function repartitionSource<T>(origin: RepartitionOrigin): Source<T> {
  return {
    kind: 'repartition',
    bounded: false,
    replayable: true,
    parallel: true,
    describe: () => `repartition topic ${origin.topic} (group ${origin.groupId})`,
    createReader: (ctx) => new RepartitionSourceReader<T>(ctx, origin),
  };
}

class RepartitionSourceReader<T> implements SourceReader<T> {
  private reader: RepartitionReader<T> | undefined;
  private readonly snapshots = new Map<number, Map<number, number>>();

  constructor(
    private readonly ctx: SourceContext,
    private readonly origin: RepartitionOrigin,
  ) {}

  async open(): Promise<void> {
    await this.origin.ready;
    const reader = new RepartitionReader<T>({
      brokers: this.origin.brokers,
      topic: this.origin.topic,
      groupId: this.origin.groupId,
      idleTimeoutMs: this.origin.idleTimeoutMs,
      sessionTimeoutMs: this.origin.sessionTimeoutMs,
      clock: this.ctx.clock,
      clientId: `sluice-${this.ctx.uid}`,
    });
    await reader.open();
    this.reader = reader;
  }

  async poll(): Promise<SourceBatch<T>> {
    const reader = this.reader!;
    if (reader.drained) await wait(this.ctx.clock, Math.min(this.ctx.maxPollWaitMs, 50), this.ctx.signal);
    const { records, watermark } = reader.poll();
    const batch: SourceBatch<T> = { values: records.map((r) => r.value), timestamps: records.map((r) => r.timestamp) };
    if (watermark !== undefined) batch.watermark = watermark;
    return batch;
  }

  snapshotPosition(checkpointId: number): unknown {
    this.snapshots.set(checkpointId, this.reader?.positions() ?? new Map());
    return undefined; // positions live in the group's committed offsets, not in checkpoints
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const positions = this.snapshots.get(checkpointId);
    for (const id of [...this.snapshots.keys()]) if (id <= checkpointId) this.snapshots.delete(id);
    if (positions && this.reader) await this.reader.commit(positions).catch(() => {});
  }

  async close(): Promise<void> {
    await this.reader?.close();
  }
}
