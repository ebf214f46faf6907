import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import { SluiceError } from '../../errors/index.js';
import { Wakeup, wait } from '../shared/wait.js';
import type { SourceContext } from '../source.js';
import { connectRabbitmq, safeUrl } from './client.js';
import type { RabbitmqConnectionOptions } from './connection.js';

/**
 * One AMQP consumer of a queue or stream for a source reader: its connection and
 * channel, the deliveries the broker pushed (at most `prefetch` unacknowledged: the
 * broker stops sending there, which is the backpressure), and a failure when the broker
 * cancels the consumer or closes the channel.
 */
export class Consumer {
  private model: ChannelModel | undefined;
  channel: Channel | undefined;
  private readonly buffer: ConsumeMessage[] = [];
  private readonly arrived = new Wakeup();
  private failure: unknown;
  private closing = false;

  constructor(
    private readonly opts: RabbitmqConnectionOptions,
    private readonly ctx: SourceContext,
    private readonly queue: string,
  ) {}

  async open(prefetch: number, args?: Options.Consume['arguments']): Promise<void> {
    this.model = await connectRabbitmq(this.opts, this.ctx.uid, 'source');
    this.model.on('error', (e) => this.fail(e));
    try {
      const channel = (this.channel = await this.model.createChannel());
      channel.on('error', (e: Error) => this.fail(e));
      channel.on('close', () => this.fail(new Error('the channel was closed')));
      await channel.prefetch(prefetch);
      await channel.consume(
        this.queue,
        (m) => {
          if (m === null) return this.fail(new Error('the broker cancelled the consumer (queue deleted?)'));
          this.buffer.push(m);
          this.arrived.wake();
        },
        { noAck: false, ...(args ? { arguments: args } : {}) },
      );
    } catch (e) {
      throw this.error('opening a consumer of', e);
    }
  }

  /** Up to `max` deliveries, waiting at most `maxPollWaitMs` for the first. */
  async take(max: number): Promise<ConsumeMessage[]> {
    if (this.buffer.length === 0 && this.failure === undefined) await wait(this.ctx.clock, this.ctx.maxPollWaitMs, this.ctx.signal, this.arrived);
    if (this.failure !== undefined && this.buffer.length === 0) throw this.error('reading', this.failure);
    return this.buffer.splice(0, Math.max(1, max));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.arrived.wake();
    const model = this.model;
    const channel = this.channel;
    this.model = undefined;
    this.channel = undefined;
    // The channel first: its close waits for the broker to take the acknowledgements sent
    // before it (a connection closed at once can lose them). Closing returns every
    // unacknowledged delivery to its queue.
    if (channel) await channel.close().catch(() => {});
    if (model) await model.close().catch(() => {});
  }

  private fail(e: unknown): void {
    if (this.closing || this.failure !== undefined) return;
    this.failure = e;
    this.arrived.wake();
  }

  private error(doing: string, e: unknown): SluiceError {
    return new SluiceError('SOURCE_FAILED', `rabbitmq source '${this.ctx.uid}': failed ${doing} '${this.queue}' at ${safeUrl(this.opts)}: ${(e as Error)?.message ?? String(e)}`, {
      hint: 'The queue (or stream) must exist: declare it with rabbitmqadmin, a definitions file, or channel.assertQueue.',
      step: this.ctx.uid,
      cause: e,
    });
  }
}
