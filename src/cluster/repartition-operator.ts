import type { Batch } from '../runtime/batch.js';
import { Operator } from '../runtime/operator.js';
import type { Key } from '../state/types.js';
import { RepartitionWriter } from './repartition-writer.js';

/** Where a repartition operator writes, known once the cluster's topics are ready. */
export interface RepartitionTarget {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly maxParallelism: number;
  /** This member's id: producing tasks are `<member>/<uid>#<subtask>`. */
  readonly member: string;
  /** How often a producing task repeats its marker (a third of the consumers' idle timeout). */
  readonly heartbeatMs: number;
  /** Resolves to the topic's partition count once `ensureInternalTopics` made or checked it. */
  readonly ready: Promise<{ partitions: number }>;
}

/**
 * The end of a sub-topology in front of a keyed exchange: writes its input to the
 * exchange's repartition topic with a {@link RepartitionWriter}, and its watermark (or its
 * idleness) as markers. Writes are deferred on the task, which waits for them before its
 * next input, so records and markers keep their order and a checkpoint barrier passes only
 * after what came before it is acknowledged: a checkpoint then commits consumed offsets
 * whose results are in the repartition topic (at-least-once). The writer announces the
 * task when it opens and repeats its marker every `heartbeatMs`, so that consumers hold
 * their watermark back for every live producer, and let go of one only when it says it is
 * idle or stops being heard (a member that died).
 */
export class RepartitionOperator<T> extends Operator<T, never> {
  private writer: RepartitionWriter<T> | undefined;

  constructor(
    private readonly target: RepartitionTarget,
    private readonly keySelector: (value: T) => Key,
  ) {
    super();
  }

  override async open(): Promise<void> {
    const { partitions } = await this.target.ready;
    const { index } = this.runtime.subtask;
    const writer = new RepartitionWriter<T>({
      brokers: this.target.brokers,
      topic: this.target.topic,
      partitions,
      maxParallelism: this.target.maxParallelism,
      task: `${this.target.member}/${this.uid}#${index}`,
      keySelector: this.keySelector,
    });
    await writer.open();
    this.writer = writer;
    this.scheduleHeartbeat();
  }

  /** Repeats the task's marker every `heartbeatMs` of processing time, so consumers tell a quiet task from a gone one. */
  private scheduleHeartbeat(): void {
    if (!Number.isFinite(this.target.heartbeatMs)) return;
    this.cancelHeartbeat = this.runtime.scheduleProcessingTime(this.runtime.clock.now() + this.target.heartbeatMs, () => {
      this.then(() => this.writer!.heartbeat());
      this.scheduleHeartbeat();
    });
  }
  private cancelHeartbeat: (() => void) | undefined;

  /**
   * One send at a time, in order: a batch and a watermark can arrive in one input, and two
   * sends in flight at once get out-of-order sequence numbers from the idempotent producer.
   */
  private then(work: () => Promise<void>): void {
    this.pending = this.pending.then(work);
    this.runtime.defer(this.pending);
  }
  private pending: Promise<void> = Promise.resolve();

  processBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    this.then(() => this.writer!.write(values, timestamps));
  }

  override processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.then(() => this.writer!.watermark(watermark));
  }

  override processIdle(idle: boolean): void {
    if (idle) this.then(() => this.writer!.idle());
  }

  override endInput(): void {}

  override async close(): Promise<void> {
    this.cancelHeartbeat?.();
    await this.pending.catch(() => {});
    await this.writer?.close();
  }
}
