import type { ConsumeMessage } from 'amqplib';
import { SluiceError } from '../../errors/index.js';
import type { Format } from '../../formats/format.js';
import { Decoder, checkBadRecordPolicy, newIngestStats, type BadRecordPolicy, type IngestStats } from '../shared/ingest.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import type { RabbitmqConnectionOptions } from './connection.js';
import { Consumer } from './consumer.js';

/** Options of {@link rabbitmqSource}: where RabbitMQ is, the queue, decoding, acknowledgements. */
export interface RabbitmqSourceOptions<T> extends RabbitmqConnectionOptions {
  /** The queue to consume (it must exist). */
  queue: string;
  /** How message bodies become records (`jsonFormat<T>()`, …). */
  format: Format<T>;
  /** What to do with a message that fails to decode or validate (default 'dead-letter'). */
  onBadRecord?: BadRecordPolicy;
  /**
   * The most unacknowledged messages the broker sends this reader (basic.qos, default
   * 5000): the backpressure. Messages are acknowledged when the checkpoint covering them
   * completes, so this must exceed what one checkpoint interval reads, or reading waits
   * for the checkpoint.
   */
  prefetch?: number;
  /**
   * When messages are acknowledged: `'checkpoint'` (default) once the checkpoint covering
   * them completes; `'read'` as soon as they are handed to the job (for jobs without
   * checkpoints, which would otherwise stop at `prefetch` unacknowledged messages).
   */
  ackOn?: 'checkpoint' | 'read';
  /**
   * Drop redeliveries by the message's `message-id` property (default false). With it the
   * job's results are exactly-once; without it a message whose checkpoint completed but
   * whose ack was lost (a crash in between) is read again (at-least-once). Messages
   * without a `message-id` are never dropped.
   */
  dedupe?: boolean;
}

/** The source {@link rabbitmqSource} returns: unbounded; one reader per queue consumer. */
export interface RabbitmqSource<T> extends Source<T> {
  readonly kind: 'rabbitmq-queue';
  /** Counters across every reader of this source (restarts included); `duplicates`: redeliveries dropped by message id. */
  readonly stats: IngestStats & { duplicates: number };
}

/** What a checkpoint holds for a queue reader: the message ids handed out and not yet acknowledged (with `dedupe`). */
export interface RabbitmqQueuePosition {
  readonly ids: string[];
}

/**
 * Reads a RabbitMQ queue (AMQP 0-9-1, amqplib) with manual acknowledgements, as Flink's
 * RMQSource does. A message is acknowledged only when the checkpoint that covers it
 * completes; after a failure the broker gives every unacknowledged message back, so the
 * job reads again what its restored checkpoint does not hold: at-least-once. With
 * `dedupe`, the ids of messages handed out but not acknowledged are kept in each
 * checkpoint, and after a restore a redelivery of one of them is dropped (and
 * acknowledged): exactly-once results, when publishers set unique message ids
 * ({@link rabbitmqSink} does). `prefetch` bounds what the broker sends ahead.
 *
 * A queue hands each message to one consumer: run one reader per queue (several readers
 * of one queue would share its messages, and their redeliveries, between them).
 *
 * @example
 * const orders = rabbitmqSource({ queue: 'orders', format: jsonFormat<Order>(), dedupe: true });
 * job.source(orders, { uid: 'orders' });
 */
export function rabbitmqSource<T>(opts: RabbitmqSourceOptions<T>): RabbitmqSource<T> {
  if (!opts || typeof opts.queue !== 'string' || !opts.queue) throw new SluiceError('INVALID_ARGUMENT', 'rabbitmqSource: queue must be a non-empty string');
  if (!opts.format || typeof opts.format.decode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'rabbitmqSource: format is required (jsonFormat(), …)');
  checkPrefetch('rabbitmqSource', opts.prefetch);
  if (opts.ackOn !== undefined && opts.ackOn !== 'checkpoint' && opts.ackOn !== 'read') throw new SluiceError('INVALID_ARGUMENT', `rabbitmqSource: ackOn must be 'checkpoint' or 'read', not ${JSON.stringify(opts.ackOn)}`);
  const policy = checkBadRecordPolicy('rabbitmqSource', opts.onBadRecord);
  const stats = { ...newIngestStats(), duplicates: 0 };
  return {
    kind: 'rabbitmq-queue',
    bounded: false,
    // Not by position but by redelivery: whatever a restored checkpoint does not cover was never acknowledged.
    replayable: true,
    stats,
    describe: () => `rabbitmq queue ${opts.queue} (${opts.format.name}${opts.dedupe ? ', deduplicated by message id' : ''})`,
    createReader: (ctx) => new QueueReader<T>(opts, ctx, new Decoder(opts.format, policy, ctx, stats), stats),
  };
}

/** @internal */
export function checkPrefetch(what: string, prefetch: unknown): void {
  if (prefetch !== undefined && (!Number.isInteger(prefetch) || (prefetch as number) < 1 || (prefetch as number) > 65535)) {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: prefetch must be an integer from 1 to 65535, not ${String(prefetch)}`);
  }
}

class QueueReader<T> implements SourceReader<T> {
  private readonly consumer: Consumer;
  /** Handed out, not acknowledged: delivery tags in order, with their message ids. */
  private handedOut: Array<{ tag: number; id: string | undefined; message: ConsumeMessage }> = [];
  /** Per snapshot not yet completed: the last message it covers. */
  private snapshots: Array<{ checkpointId: number; last: ConsumeMessage | undefined }> = [];
  /** Ids the restored checkpoint holds: a redelivery of one of them is already in the job's state. */
  private restoredIds: Set<string> | undefined;

  constructor(
    private readonly opts: RabbitmqSourceOptions<T>,
    private readonly ctx: SourceContext,
    private readonly decoder: Decoder<T>,
    private readonly stats: { duplicates: number },
  ) {
    this.consumer = new Consumer(opts, ctx, opts.queue);
    const restored = ctx.restoredPosition as RabbitmqQueuePosition | undefined;
    if (opts.dedupe && restored?.ids?.length) this.restoredIds = new Set(restored.ids);
  }

  async open(): Promise<void> {
    await this.decoder.open();
    await this.consumer.open(this.opts.prefetch ?? 5000);
  }

  async poll(): Promise<SourceBatch<T>> {
    const taken = await this.consumer.take(this.ctx.maxBatchSize);
    if (taken.length === 0) return { values: [] };
    const fresh: ConsumeMessage[] = [];
    for (const m of taken) {
      const id = m.properties.messageId as string | undefined;
      if (this.restoredIds && id !== undefined && this.restoredIds.has(id)) {
        // Its effect is in the restored checkpoint (and in any later one): drop and acknowledge it.
        this.restoredIds.delete(id);
        this.stats.duplicates++;
        this.consumer.channel?.ack(m);
        continue;
      }
      fresh.push(m);
    }
    const { values } = await this.decoder.decode(
      fresh.map((m) => m.content),
      (i) => `${this.opts.queue}#${fresh[i]!.properties.messageId ?? `delivery-${fresh[i]!.fields.deliveryTag}`}`,
    );
    if (this.opts.ackOn === 'read') {
      const last = fresh[fresh.length - 1];
      if (last) this.consumer.channel?.ack(last, true);
    } else {
      for (const m of fresh) this.handedOut.push({ tag: m.fields.deliveryTag, id: m.properties.messageId as string | undefined, message: m });
    }
    return { values };
  }

  snapshotPosition(checkpointId: number): RabbitmqQueuePosition {
    this.snapshots.push({ checkpointId, last: this.handedOut[this.handedOut.length - 1]?.message });
    const ids: string[] = [];
    if (this.opts.dedupe) {
      for (const h of this.handedOut) if (h.id !== undefined) ids.push(h.id);
      // Not acknowledged yet: their redeliveries must still be recognised after a restore from this checkpoint.
      if (this.restoredIds) ids.push(...this.restoredIds);
    }
    return { ids };
  }

  notifyCheckpointComplete(checkpointId: number): void {
    let last: ConsumeMessage | undefined;
    while (this.snapshots.length > 0 && this.snapshots[0]!.checkpointId <= checkpointId) last = this.snapshots.shift()!.last ?? last;
    if (!last) return;
    // One multiple ack covers every delivery up to it (including bad records, dead-lettered or skipped).
    this.consumer.channel?.ack(last, true);
    const tag = last.fields.deliveryTag;
    this.handedOut = this.handedOut.filter((h) => h.tag > tag);
    // Redeliveries come back first, in their places in the queue: once a checkpoint covers a
    // new message after them, none of the restored ids can come again.
    this.restoredIds = undefined;
  }

  async close(): Promise<void> {
    await this.consumer.close();
    await this.decoder.close();
  }
}
