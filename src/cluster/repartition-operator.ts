import type { Batch } from '../runtime/batch.js';
import { Operator } from '../runtime/operator.js';
import type { Key } from '../state/types.js';
import type { ClusterMember } from './member.js';
import { RepartitionWriter } from './repartition-writer.js';

/** Where a repartition operator writes, known once the cluster's topics are ready. */
export interface RepartitionTarget {
  readonly topic: string;
  readonly maxParallelism: number;
  /** This member: it sends in its transaction, and producing tasks are `<member>/<uid>#<subtask>`. */
  readonly member: Promise<ClusterMember>;
  /** The topics the producing sub-topology reads (Kafka source topics, repartition topics) and their partition counts: what its markers speak for. */
  readonly inputs: Promise<Readonly<Record<string, number>>>;
  /** How often a producing task without partitioned input repeats its marker (a third of the consumers' idle timeout). */
  readonly heartbeatMs: number;
  /** Resolves to the topic's partition count once `ensureInternalTopics` made or checked it. */
  readonly ready: Promise<{ partitions: number }>;
}

/**
 * The end of a sub-topology in front of a keyed exchange: writes its input to the
 * exchange's repartition topic with a {@link RepartitionWriter}, and its watermark (or its
 * idleness) as markers. Writes are deferred on the task, which waits for them before its
 * next input, so records and markers keep their order and a checkpoint barrier passes only
 * after what came before it is acknowledged: the member's checkpoint transaction then
 * holds them with the offsets they came from (exactly-once). The writer announces the
 * task when it opens, speaking for the input partitions the member reads in this attempt
 * under its group generation: consumers hold their watermark back for each input
 * partition until its owner says it is idle, and a member that died holds it where it
 * left it until the member that takes its partitions over speaks (`watermark-merger.ts`).
 */
export class RepartitionOperator<T> extends Operator<T, never> {
  private writer: RepartitionWriter<T> | undefined;
  /** The last checkpoint barrier that reached this step: what it writes from then on waits for that checkpoint's commit. */
  private barrier: number | undefined;

  constructor(
    private readonly target: RepartitionTarget,
    private readonly keySelector: (value: T) => Key,
  ) {
    super();
  }

  override async open(): Promise<void> {
    const { partitions } = await this.target.ready;
    const member = await this.target.member;
    const inputs = await this.target.inputs;
    const { index, parallelism } = this.runtime.subtask;
    const covers = Object.keys(inputs).flatMap((topic) => member.partitionsOf(topic).map((p) => `${topic}/${p}`));
    const writer = new RepartitionWriter<T>({
      send: (messages) => member.send(messages, this.barrier),
      topic: this.target.topic,
      partitions,
      maxParallelism: this.target.maxParallelism,
      task: `${member.name}/${this.uid}#${index}`,
      ...(Object.keys(inputs).length > 0 ? { claim: { inputs, covers, subtask: index, subtasks: parallelism, generation: () => member.generation } } : {}),
      keySelector: this.keySelector,
    });
    await writer.open();
    this.writer = writer;
    if (Object.keys(inputs).length === 0) this.scheduleHeartbeat();
  }

  /** Repeats the task's marker every `heartbeatMs` of processing time, so consumers tell a quiet task from a gone one (a task that speaks only for itself). */
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

  override snapshotState(checkpointId: number): undefined {
    this.barrier = checkpointId;
    return undefined;
  }

  override endInput(): void {}

  override async close(): Promise<void> {
    this.cancelHeartbeat?.();
    await this.pending.catch(() => {});
  }
}
