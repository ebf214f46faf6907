import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { SluiceError } from '../../errors/index.js';
import type { Format } from '../../formats/format.js';
import { FormatLifecycle } from '../../formats/lifecycle.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { connectRabbitmq, safeUrl } from './client.js';
import type { RabbitmqConnectionOptions } from './connection.js';

/** Options of {@link rabbitmqSink}: where RabbitMQ is, and where to publish. */
export interface RabbitmqSinkOptions<T> extends RabbitmqConnectionOptions {
  /** The exchange to publish to (default `''`: the default exchange, which routes to the queue named by the routing key). */
  exchange?: string;
  /** The routing key (with the default exchange: the queue or stream), or one per record. */
  routingKey: string | ((value: T) => string);
  /** How records become message bodies (`jsonFormat<T>()`, …). */
  format: Format<T>;
  /**
   * The `message-id` of a record. Default: derived from its place in the output since the
   * last checkpoint (see rabbitmqSink), the same when a restart writes it again. Give a
   * natural id (an order id) when records have one.
   */
  messageId?: (value: T) => string;
  /** Persistent messages (delivery mode 2, default true): they outlive a broker restart in durable queues. */
  persistent?: boolean;
  /** Publishes in flight before a write waits for the broker's confirms (default 2048). */
  maxInFlight?: number;
}

/** The sink {@link rabbitmqSink} returns: at-least-once, every message with a stable id. */
export interface RabbitmqSink<T> extends Sink<T> {
  readonly kind: 'rabbitmq';
  /** Messages the broker confirmed, across writers. */
  readonly stats: { published: number };
}

/** What a checkpoint holds for the sink: the run its message ids belong to, and how many records it had written. */
interface RabbitmqSinkTransaction {
  readonly run: string;
  readonly count: number;
}

/**
 * Publishes records to RabbitMQ with publisher confirms: at each checkpoint barrier
 * (`preCommit`) the writer waits until the broker has confirmed every message, so a
 * completed checkpoint covers them. Messages are `mandatory`: one that no queue takes is
 * returned, and the sink fails with SINK_FAILED instead of losing it.
 *
 * Guarantee: at-least-once. RabbitMQ queues do not drop duplicates, so a restart that
 * publishes again what the restored checkpoint did not cover writes those messages twice;
 * but with the same `message-id`: by default `<uid>:<run>:<n>`, the n-th record of this
 * run of the job (run and n kept in every checkpoint; a restart replays the same records
 * in the same order from a replayable source through deterministic steps). A consumer
 * that drops repeated message ids sees each record once. (`rabbitmqSource({ dedupe: true })`
 * drops the broker's redeliveries after a restore, not a producer's second copies.)
 *
 * @example
 * scores.sinkTo(rabbitmqSink({ routingKey: 'scores', format: jsonFormat<Score>(), messageId: (s) => s.id }), { uid: 'scores-out' });
 */
export function rabbitmqSink<T>(opts: RabbitmqSinkOptions<T>): RabbitmqSink<T> {
  if (!opts || (typeof opts.routingKey !== 'string' && typeof opts.routingKey !== 'function')) {
    throw new SluiceError('INVALID_ARGUMENT', 'rabbitmqSink: routingKey must be a string or a function of the record');
  }
  if ((opts.exchange ?? '') === '' && opts.routingKey === '') throw new SluiceError('INVALID_ARGUMENT', 'rabbitmqSink: with the default exchange, routingKey names the queue and must not be empty');
  if (!opts.format || typeof opts.format.encode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'rabbitmqSink: format is required (jsonFormat(), …)');
  if (opts.maxInFlight !== undefined && (!Number.isInteger(opts.maxInFlight) || opts.maxInFlight < 1)) throw new SluiceError('INVALID_ARGUMENT', `rabbitmqSink: maxInFlight must be a positive integer, not ${String(opts.maxInFlight)}`);
  const stats = { published: 0 };
  const where = `${opts.exchange ? `exchange ${opts.exchange}` : 'queue'} ${typeof opts.routingKey === 'string' ? opts.routingKey : '(routing key per record)'}`;
  return {
    kind: 'rabbitmq',
    guarantees: ['at-least-once', 'none'],
    stats,
    describe: () => `rabbitmq publish to ${where} (${opts.format.name}, publisher confirms, message ids)`,
    createWriter: (ctx) => new RabbitmqWriter<T>(opts, ctx, stats),
  };
}

class RabbitmqWriter<T> implements SinkWriter<T> {
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private unconfirmed = 0;
  private failure: Error | undefined;
  private run: string;
  private count = 0;
  private readonly lifecycle: FormatLifecycle;

  constructor(
    private readonly opts: RabbitmqSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly stats: { published: number },
  ) {
    this.run = ctx.executionId;
    this.lifecycle = new FormatLifecycle(opts.format);
  }

  async open(): Promise<void> {
    this.model = await connectRabbitmq(this.opts, this.ctx.uid, 'sink');
    this.model.on('error', (e: Error) => (this.failure ??= e));
    try {
      this.channel = await this.model.createConfirmChannel();
    } catch (e) {
      throw this.error('opening a channel', e);
    }
    this.channel.on('error', (e: Error) => (this.failure ??= e));
    this.channel.on('return', (m: Message) => {
      this.failure ??= new Error(`a message (id ${String(m.properties.messageId)}) was returned unroutable: no queue is bound to routing key '${m.fields.routingKey}'${m.fields.exchange ? ` on exchange '${m.fields.exchange}'` : ''}`);
    });
    await this.lifecycle.open();
  }

  async recover(transactions: unknown[]): Promise<void> {
    // The latest transaction of the restored checkpoint: the replay goes on from its count.
    let latest: RabbitmqSinkTransaction | undefined;
    for (const t of transactions as RabbitmqSinkTransaction[]) if (!latest || t.count >= latest.count) latest = t;
    if (latest) {
      this.run = latest.run;
      this.count = latest.count;
    }
  }

  async write(values: T[]): Promise<void> {
    const channel = this.channel!;
    const { exchange = '', routingKey, persistent = true } = this.opts;
    let full = false;
    for (const v of values) {
      if (this.failure) throw this.error('publishing', this.failure);
      const body = this.opts.format.encode(v);
      const messageId = this.opts.messageId ? this.opts.messageId(v) : `${this.ctx.uid}:${this.run}:${this.count}`;
      this.count++;
      this.unconfirmed++;
      full = !channel.publish(exchange, typeof routingKey === 'string' ? routingKey : routingKey(v), Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
        messageId,
        persistent,
        mandatory: true,
      });
      // The socket's buffer is full: let it drain before going on (backpressure).
      if (full) await new Promise<void>((resolve) => channel.once('drain', resolve));
    }
    if (this.unconfirmed >= (this.opts.maxInFlight ?? 2048)) await this.settle();
  }

  /** Waits for the broker's confirm of every message published so far. */
  private async settle(): Promise<void> {
    const n = this.unconfirmed;
    try {
      await this.channel!.waitForConfirms();
    } catch (e) {
      throw this.error('waiting for publisher confirms', this.failure ?? e);
    }
    if (this.failure) throw this.error('publishing', this.failure);
    this.unconfirmed = 0;
    this.stats.published += n;
  }

  /** At a barrier: every message so far is confirmed; the checkpoint keeps the run and count. */
  async preCommit(): Promise<RabbitmqSinkTransaction> {
    await this.settle();
    return { run: this.run, count: this.count };
  }

  /** Nothing to publish: the broker confirmed the messages in preCommit. */
  async commit(): Promise<void> {}

  async flush(): Promise<void> {
    await this.settle();
  }

  async close(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    if (model) await model.close().catch(() => {});
    await this.lifecycle.close();
  }

  private error(doing: string, e: unknown): SluiceError {
    return new SluiceError('SINK_FAILED', `rabbitmq sink '${this.ctx.uid}': failed ${doing} at ${safeUrl(this.opts)}: ${(e as Error)?.message ?? String(e)}`, {
      hint: 'Check that the exchange exists and a queue is bound for the routing key, and that the broker is up.',
      step: this.ctx.uid,
      cause: e,
    });
  }
}
