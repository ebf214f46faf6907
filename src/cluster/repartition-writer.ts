import type { MessageToProduce } from '@platformatic/kafka';
import type { Key } from '../state/types.js';
import { MARKER_HEADER, TASK_HEADER, encodeMarker, encodeRecord, repartitionPartition } from './repartition-codec.js';

const TASK_KEY = Buffer.from(TASK_HEADER);
const MARKER_KEY = Buffer.from(MARKER_HEADER);

/** The input partitions a producing task reads, which its markers speak for. */
export interface MarkerClaim {
  /** Every input topic of the producing sub-topology, with its partition count. */
  readonly inputs: Readonly<Record<string, number>>;
  /** The input partitions (`topic/partition`) the task reads in this attempt. */
  readonly covers: readonly string[];
  readonly subtask: number;
  readonly subtasks: number;
  /** The group generation now (it moves on when a rebalance leaves the member's partitions as they were). */
  readonly generation: () => number;
}

/** Options of a {@link RepartitionWriter}. */
export interface RepartitionWriterOptions<T> {
  /** Sends records (in a cluster, into the member's open transaction: `ClusterMember.send`). */
  readonly send: (messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[]) => Promise<void>;
  /** The repartition topic (`<cluster>-<uid>-repartition`). */
  readonly topic: string;
  /** Its partition count (checked against the topic by `ensureInternalTopics`). */
  readonly partitions: number;
  /** The job's max parallelism: the number of key groups. */
  readonly maxParallelism: number;
  /** The producing task's id (`<member>/<step>#<subtask>`): its records and markers carry it. */
  readonly task: string;
  /** What the task's markers speak for (see `WatermarkMarker`): omitted, the task speaks for itself alone. */
  readonly claim?: MarkerClaim;
  /** The key of a record: the keyed exchange's key selector. */
  readonly keySelector: (value: T) => Key;
}

/**
 * The producing side of a keyed exchange across processes: each record goes to the
 * partition that owns its key's key group; a watermark that moves forward goes as a
 * marker into every partition, after the records before it (sends are awaited in order).
 * A resolved `write` or `watermark` means the broker has the records; in a cluster they
 * become visible to `read_committed` readers when the member's checkpoint commits.
 */
export class RepartitionWriter<T> {
  private lastWatermark = Number.NEGATIVE_INFINITY;
  private readonly taskHeader: Buffer;

  constructor(private readonly options: RepartitionWriterOptions<T>) {
    this.taskHeader = Buffer.from(options.task);
  }

  async open(): Promise<void> {
    // Announce the task before any record: consumers hold their watermark back for it from
    // now on, rather than run ahead of records it has not written yet.
    await this.sendMarker(false);
  }

  /**
   * Says again what this task last said (its watermark, or that it is idle). A task that
   * speaks only for itself (no partitioned input) calls it periodically, well within the
   * consumers' idle timeout, so that its silence means a task that is gone.
   */
  async heartbeat(): Promise<void> {
    await this.sendMarker(this.idleNow);
  }
  private idleNow = false;

  /** Writes a batch of records to the partitions of their keys. */
  async write(values: readonly T[], timestamps: readonly number[]): Promise<void> {
    if (values.length === 0) return;
    // A task that said it was idle says it is not before its records: consumers hold
    // their watermark back for it again (its records carry no task of their own).
    if (this.idleNow) {
      this.idleNow = false;
      await this.sendMarker(false);
    }
    const { topic, partitions, maxParallelism, keySelector } = this.options;
    const messages = values.map((value, i) => ({ topic, partition: repartitionPartition(keySelector(value), partitions, maxParallelism), value: encodeRecord(value, timestamps[i]!) }));
    await this.send(messages);
  }

  private send(messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[]): Promise<void> {
    return this.options.send(messages);
  }

  /** Writes a watermark marker into every partition if `watermark` moved forward. */
  async watermark(watermark: number): Promise<void> {
    if (watermark <= this.lastWatermark) return;
    this.lastWatermark = watermark;
    this.idleNow = false;
    await this.sendMarker(false);
  }

  /** Tells every partition that this task is idle, so it holds no consumer back until it writes again. */
  async idle(): Promise<void> {
    this.idleNow = true;
    await this.sendMarker(true);
  }

  private async sendMarker(idle: boolean): Promise<void> {
    const { task, claim } = this.options;
    const value = encodeMarker({
      task,
      watermark: this.lastWatermark,
      idle,
      generation: claim?.generation() ?? 0,
      inputs: claim?.inputs ?? {},
      covers: claim?.covers ?? [],
      subtask: claim?.subtask ?? 0,
      subtasks: claim?.subtasks ?? 1,
    });
    const headers = new Map<Buffer, Buffer>([
      [MARKER_KEY, Buffer.from('1')],
      [TASK_KEY, this.taskHeader],
    ]);
    const messages = Array.from({ length: this.options.partitions }, (_, partition) => ({ topic: this.options.topic, partition, value, headers }));
    await this.send(messages);
  }
}
