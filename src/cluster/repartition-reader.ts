import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { closeReading, loadKafkaClient } from '../connectors/kafka/client.js';
import type { Clock } from '../time/clock.js';
import { MARKER_HEADER, TASK_HEADER, TS_HEADER, decodeMarker, decodeTimestamp } from './repartition-codec.js';
import { ProducerWatermarks } from './watermark-merger.js';

/** Options of a {@link RepartitionReader}. */
export interface RepartitionReaderOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** The consumer group whose assignment gives this reader its partitions (the cluster's group). */
  readonly groupId: string;
  /** How long a producing task may stay silent before it stops holding the watermark back (Infinity: never). */
  readonly idleTimeoutMs: number;
  readonly clock: Clock;
  readonly clientId?: string;
  readonly sessionTimeoutMs?: number;
}

/** One record read from a repartition topic. */
export interface RepartitionRecord<T> {
  readonly partition: number;
  readonly offset: number;
  readonly value: T;
  /** Event time; NaN when the record had none. */
  readonly timestamp: number;
}

/** What one poll gives: the records read since the last, and the merged watermark if it moved forward. */
export interface RepartitionBatch<T> {
  readonly records: RepartitionRecord<T>[];
  readonly watermark?: number;
}

function header(m: Message<Buffer, Buffer, Buffer, Buffer>, name: string): Buffer | undefined {
  for (const [k, v] of m.headers ?? []) if (k.toString() === name) return v;
  return undefined;
}

/**
 * The consuming side of a keyed exchange across processes: reads the partitions of a
 * repartition topic that the group assigns to it, turns watermark markers into the task's
 * watermark (`ProducerWatermarks`) and hands out the data records. Offsets are committed
 * only by {@link commit}: the caller commits once what it made of the records is safe
 * (at-least-once).
 */
export class RepartitionReader<T> {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private queue: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  private failure: unknown;
  private readonly merger: ProducerWatermarks;
  /** The next offset per partition, of everything handed out (records and markers). */
  private readonly positionsByPartition = new Map<number, number>();
  private assigned: number[] = [];

  constructor(private readonly options: RepartitionReaderOptions) {
    this.merger = new ProducerWatermarks(options.idleTimeoutMs);
  }

  /** The partitions the group gives this reader now. */
  get partitions(): readonly number[] {
    return this.assigned;
  }

  async open(): Promise<void> {
    const { Consumer } = await loadKafkaClient();
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer = (this.consumer = new Consumer({
      clientId: this.options.clientId ?? `sluice-${this.options.topic}`,
      bootstrapBrokers: [...this.options.brokers],
      groupId: this.options.groupId,
      sessionTimeout,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
      rebalanceTimeout: Math.max(sessionTimeout, 10_000),
      autocommit: false,
      isolationLevel: 1,
      maxWaitTime: 100,
      retries: 10,
    }));
    consumer.on('consumer:group:join', (payload) => {
      const mine = (payload.assignments ?? consumer.assignments ?? []).find((a) => a.topic === this.options.topic);
      this.assigned = [...(mine?.partitions ?? [])].sort((a, b) => a - b);
      this.merger.assign(this.assigned, this.options.clock.now());
      for (const p of [...this.positionsByPartition.keys()]) if (!this.assigned.includes(p)) this.positionsByPartition.delete(p);
    });
    const stream = (this.stream = await consumer.consume({ topics: [this.options.topic], mode: 'committed', fallbackMode: 'earliest' }));
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => this.queue.push(m));
    stream.on('error', (e: unknown) => (this.failure ??= e));
  }

  /** The records and markers that arrived since the last poll. Never waits. */
  poll(): RepartitionBatch<T> {
    if (this.failure !== undefined) throw this.failure;
    const now = this.options.clock.now();
    const queue = this.queue;
    this.queue = [];
    const records: RepartitionRecord<T>[] = [];
    for (const m of queue) {
      if (!this.assigned.includes(m.partition)) continue; // fetched before a rebalance took the partition
      const offset = Number(m.offset);
      this.positionsByPartition.set(m.partition, offset + 1);
      const task = header(m, TASK_HEADER)?.toString() ?? '';
      if (header(m, MARKER_HEADER) !== undefined) {
        const marker = decodeMarker(m.value);
        this.merger.marker(m.partition, marker.task, marker.watermark, marker.idle === true, now);
        continue;
      }
      this.merger.record(m.partition, task, now);
      records.push({ partition: m.partition, offset, value: JSON.parse(m.value!.toString()) as T, timestamp: decodeTimestamp(header(m, TS_HEADER)) });
    }
    const watermark = this.merger.advance(now);
    return watermark === undefined ? { records } : { records, watermark };
  }

  /** The next offset per partition of everything handed out so far. */
  positions(): Map<number, number> {
    return new Map(this.positionsByPartition);
  }

  /** Whether nothing fetched waits to be polled. */
  get drained(): boolean {
    return this.queue.length === 0;
  }

  /**
   * Commits `positions` (default: everything handed out so far) for the partitions this
   * reader still owns: call it once what was made of those records is safe. A rebalance
   * may refuse the commit; the next one commits again.
   */
  async commit(positions: ReadonlyMap<number, number> = this.positionsByPartition): Promise<void> {
    const offsets = [...positions]
      .filter(([partition]) => this.assigned.includes(partition))
      .map(([partition, offset]) => ({ topic: this.options.topic, partition, offset: BigInt(offset), leaderEpoch: -1 }));
    if (offsets.length > 0) await this.consumer!.commit({ offsets });
  }

  async close(): Promise<void> {
    const { stream, consumer } = this;
    this.stream = undefined;
    this.consumer = undefined;
    await closeReading(stream, consumer);
  }
}
