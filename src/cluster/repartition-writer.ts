import type { MessageToProduce, Producer } from '@platformatic/kafka';
import { SluiceError } from '../errors/index.js';
import { loadKafkaClient } from '../connectors/kafka/client.js';
import { closeQuietly } from '../connectors/kafka/client.js';
import type { Key } from '../state/types.js';
import { MARKER_HEADER, TASK_HEADER, TS_HEADER, encodeMarker, encodeTimestamp, repartitionPartition } from './repartition-codec.js';

const TASK_KEY = Buffer.from(TASK_HEADER);
const TS_KEY = Buffer.from(TS_HEADER);
const MARKER_KEY = Buffer.from(MARKER_HEADER);

/** Options of a {@link RepartitionWriter}. */
export interface RepartitionWriterOptions<T> {
  readonly brokers: readonly string[];
  /** The repartition topic (`<cluster>-<uid>-repartition`). */
  readonly topic: string;
  /** Its partition count (checked against the topic by `ensureInternalTopics`). */
  readonly partitions: number;
  /** The job's max parallelism: the number of key groups. */
  readonly maxParallelism: number;
  /** The producing task's id, stable for its life: consumers merge watermarks per task. */
  readonly task: string;
  /** The key of a record: the keyed exchange's key selector. */
  readonly keySelector: (value: T) => Key;
}

/**
 * The producing side of a keyed exchange across processes: each record goes to the
 * partition that owns its key's key group; a watermark that moves forward goes as a
 * marker into every partition, after the records before it (one idempotent producer
 * keeps the order within a partition, and sends are awaited in order). At-least-once: a
 * resolved `write` or `watermark` means the broker has the records (acks from all in-sync
 * replicas); transactions come with exactly-once.
 */
export class RepartitionWriter<T> {
  private producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private lastWatermark = Number.NEGATIVE_INFINITY;
  private readonly taskHeader: Buffer;

  constructor(private readonly options: RepartitionWriterOptions<T>) {
    this.taskHeader = Buffer.from(options.task);
  }

  async open(): Promise<void> {
    const { Producer } = await loadKafkaClient();
    this.producer = new Producer({ clientId: `sluice-${this.options.task}`, bootstrapBrokers: [...this.options.brokers], idempotent: true, autocreateTopics: false, retries: 10 });
    // Announce the task before any record: consumers hold their watermark back for it from
    // now on, rather than run ahead of records it has not written yet.
    await this.sendMarker(false);
  }

  /**
   * Says again what this task last said (its watermark, or that it is idle): call it
   * periodically, well within the consumers' idle timeout, so that silence means a task
   * that is gone, not one whose watermark stands still.
   */
  async heartbeat(): Promise<void> {
    await this.sendMarker(this.idleNow);
  }
  private idleNow = false;

  /** Writes a batch of records to the partitions of their keys. */
  async write(values: readonly T[], timestamps: readonly number[]): Promise<void> {
    if (values.length === 0) return;
    this.idleNow = false;
    const { topic, partitions, maxParallelism, keySelector } = this.options;
    const messages = values.map((value, i) => {
      const key = keySelector(value);
      // Header names go as bytes: the client takes a Map of Buffers (a plain object's string keys fail).
      const headers = new Map<Buffer, Buffer>([[TASK_KEY, this.taskHeader]]);
      const ts = encodeTimestamp(timestamps[i]!);
      if (ts !== undefined) headers.set(TS_KEY, ts);
      return { topic, partition: repartitionPartition(key, partitions, maxParallelism), key: Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify(value)), headers };
    });
    await this.send(messages);
  }

  /** Sends, and names the topic and the broker's reasons when it fails (the client's error only says that producing failed). */
  private async send(messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[]): Promise<void> {
    try {
      await this.producer!.send({ messages });
    } catch (e) {
      const reasons = new Set<string>();
      const collect = (x: unknown, depth: number) => {
        if (depth > 3 || typeof x !== 'object' || x === null) return;
        const errors = (x as { errors?: unknown[] }).errors;
        if (Array.isArray(errors) && errors.length > 0) for (const inner of errors) collect(inner, depth + 1);
        else reasons.add((x as Error).message);
      };
      collect(e, 0);
      throw new SluiceError('SINK_FAILED', `writing the repartition topic '${this.options.topic}' failed: ${[...reasons].join('; ')}`, { cause: e });
    }
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
    const value = encodeMarker({ task: this.options.task, watermark: this.lastWatermark, idle });
    const headers = new Map<Buffer, Buffer>([
      [MARKER_KEY, Buffer.from('1')],
      [TASK_KEY, this.taskHeader],
    ]);
    const messages = Array.from({ length: this.options.partitions }, (_, partition) => ({ topic: this.options.topic, partition, value, headers }));
    await this.send(messages);
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await closeQuietly(p);
  }
}
