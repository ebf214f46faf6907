import type { ConsumerConfig, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { SluiceError } from '../../errors/index.js';
import type { Format } from '../../formats/format.js';
import { Decoder, checkBadRecordPolicy, newIngestStats, type BadRecordPolicy, type IngestStats } from '../shared/ingest.js';
import { Wakeup, wait } from '../shared/wait.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import { checkNatsConnection, connectNats, loadJetStream, nanos } from './client.js';
import type { NatsConnectionOptions } from './connection.js';
import { describeTls } from '../shared/describe-tls.js';

/** Options of {@link natsSource}: where NATS is, the stream and its durable consumer, decoding and acks. */
export interface NatsSourceOptions<T> extends NatsConnectionOptions {
  /** The JetStream stream (it must exist). */
  stream: string;
  /** The durable pull consumer's name (created if missing). */
  durable: string;
  /** Only messages on this subject (a filter within the stream). */
  filterSubject?: string;
  /** How message payloads become records (`jsonFormat<T>()`, …). */
  format: Format<T>;
  /** What to do with a message that fails to decode or validate (default 'dead-letter'). */
  onBadRecord?: BadRecordPolicy;
  /**
   * When messages are acknowledged (AckPolicy.All: one ack covers everything before it):
   * `'barrier'` (default) when a checkpoint barrier snapshots the position;
   * `'checkpoint-complete'` when the runtime reports the checkpoint durable; `'read'` as
   * soon as they are handed to the job (for jobs without checkpoints).
   */
  ackOn?: 'barrier' | 'checkpoint-complete' | 'read';
  /** How long the server waits for an ack before it redelivers (default 5 min). */
  ackWaitMs?: number;
}

/** The source {@link natsSource} returns: unbounded, replayable by stream sequence, one reader per durable consumer. */
export interface NatsSource<T> extends Source<T> {
  readonly kind: 'nats-jetstream';
  /** Counters across every reader of this source (restarts included). */
  readonly stats: IngestStats;
}

/** A checkpointed position: the stream sequence of the last message handed out. */
export interface NatsPosition {
  readonly seq: number;
}

/**
 * Reads a NATS JetStream stream through a durable pull consumer (continuous pulls of up
 * to two batches ahead). Replayable: the position is the stream sequence of the last
 * message handed out; a restore recreates the durable consumer at the next sequence
 * (DeliverPolicy.StartSequence), so the job's guarantees hold as long as the stream
 * still holds the messages (limits retention; with work-queue or interest retention an
 * acked message is gone, so use `ackOn: 'checkpoint-complete'` there). On a fresh start
 * the durable consumer is made anew after its ack floor: messages handed out but not
 * acked by a previous run are delivered again at once (at-least-once across runs).
 *
 * Acks: by default at each checkpoint barrier, up to the last message handed out before
 * the previous barrier (one checkpoint behind). An
 * ack at a barrier whose checkpoint later fails is harmless under limits retention (the
 * restore replays by sequence), so the job keeps exactly-once with a 2PC or idempotent
 * sink. Redeliveries within a run (an ack wait that expired) are dropped by sequence.
 * Read with parallelism 1 per durable consumer.
 *
 * @example
 * const orders = natsSource({ stream: 'ORDERS', durable: 'sluice-orders', format: jsonFormat<Order>() });
 */
export function natsSource<T>(opts: NatsSourceOptions<T>): NatsSource<T> {
  if (!opts || typeof opts.stream !== 'string' || !opts.stream || typeof opts.durable !== 'string' || !opts.durable) {
    throw new SluiceError('INVALID_ARGUMENT', 'natsSource: stream and durable must be non-empty strings');
  }
  if (!opts.format || typeof opts.format.decode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'natsSource: format is required (jsonFormat(), …)');
  checkNatsConnection(opts, 'natsSource');
  const policy = checkBadRecordPolicy('natsSource', opts.onBadRecord);
  const stats = newIngestStats();
  return {
    kind: 'nats-jetstream',
    bounded: false,
    replayable: true,
    stats,
    describe: () => `nats jetstream ${opts.stream}, durable ${opts.durable} (${opts.format.name}${describeTls(opts.tls)})`,
    createReader: (ctx) => new NatsReader<T>(opts, ctx, new Decoder(opts.format, policy, ctx, stats)),
  };
}

class NatsReader<T> implements SourceReader<T> {
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private queue: JsMsg[] = [];
  private readonly arrived = new Wakeup();
  private readonly room = new Wakeup();
  private pumpFailure: unknown;
  private lastSeq = 0;
  private lastMsg: JsMsg | undefined;
  private awaiting: Array<JsMsg | undefined> = [];
  private closed = false;

  constructor(
    private readonly opts: NatsSourceOptions<T>,
    private readonly ctx: SourceContext,
    private readonly decoder: Decoder<T>,
  ) {}

  async open(): Promise<void> {
    await this.decoder.open();
    const nc = (this.nc = await connectNats(this.opts, this.ctx.uid, 'source'));
    const { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } = await loadJetStream();
    try {
      const jsm = await jetstreamManager(nc);
      const restored = this.ctx.restoredPosition as NatsPosition | undefined;
      const config: Partial<ConsumerConfig> = {
        durable_name: this.opts.durable,
        ack_policy: AckPolicy.All,
        ack_wait: nanos(this.opts.ackWaitMs ?? 300_000),
        max_ack_pending: -1,
        ...(this.opts.filterSubject ? { filter_subject: this.opts.filterSubject } : {}),
      };
      // Start after the restored position, or after the consumer's ack floor: messages a
      // previous reader took but never acked must come again now, not after the ack wait.
      // A durable consumer cannot move back, so it is made anew at that sequence.
      let startAfter = restored?.seq;
      if (startAfter === undefined) {
        const info = await jsm.consumers.info(this.opts.stream, this.opts.durable).catch(() => undefined);
        startAfter = info ? info.ack_floor.stream_seq : undefined;
      }
      await jsm.consumers.delete(this.opts.stream, this.opts.durable).catch(() => false);
      await jsm.consumers.add(
        this.opts.stream,
        startAfter === undefined ? { ...config, deliver_policy: DeliverPolicy.All } : { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startAfter + 1 },
      );
      if (restored) this.lastSeq = restored.seq;
      const consumer = await jetstream(nc).consumers.get(this.opts.stream, this.opts.durable);
      this.messages = await consumer.consume({ max_messages: Math.max(64, this.ctx.maxBatchSize * 2) });
    } catch (e) {
      throw this.failed('opening the consumer of', e);
    }
    void this.pump(this.messages);
  }

  /** Moves messages into the local queue, holding while it is full (backpressure). */
  private async pump(messages: ConsumerMessages): Promise<void> {
    const limit = Math.max(64, this.ctx.maxBatchSize * 4);
    try {
      for await (const m of messages) {
        this.queue.push(m);
        this.arrived.wake();
        while (this.queue.length >= limit && !this.closed) await new Promise<void>((r) => this.room.register(r));
      }
    } catch (e) {
      if (!this.closed) this.pumpFailure = e;
      this.arrived.wake();
    }
  }

  async poll(): Promise<SourceBatch<T>> {
    if (this.pumpFailure) throw this.failed('reading', this.pumpFailure);
    if (this.queue.length === 0) await wait(this.ctx.clock, this.ctx.maxPollWaitMs, this.ctx.signal, this.arrived);
    const taken = this.queue.splice(0, Math.max(1, this.ctx.maxBatchSize));
    this.room.wake();
    // A redelivery (ack wait expired) of something already handed out: drop it.
    const fresh = taken.filter((m) => m.seq > this.lastSeq);
    if (fresh.length === 0) return { values: [] };
    const { values } = await this.decoder.decode(
      fresh.map((m) => m.data),
      (i) => `${this.opts.stream}#${fresh[i]!.seq}`,
    );
    this.lastMsg = fresh[fresh.length - 1];
    this.lastSeq = this.lastMsg!.seq;
    if (this.opts.ackOn === 'read') this.ackLast();
    return { values, timestamps: undefined };
  }

  snapshotPosition(): NatsPosition | undefined {
    if (this.opts.ackOn !== 'read') {
      this.awaiting.push(this.lastMsg!);
      this.lastMsg = undefined;
      // At barriers, ack one checkpoint behind: by the next barrier the previous checkpoint
      // has (almost always) completed, so a restart finds a position covering the acks.
      if (this.opts.ackOn !== 'checkpoint-complete' && this.awaiting.length > 1) this.awaiting.shift()?.ack();
    }
    return this.lastSeq > 0 ? { seq: this.lastSeq } : undefined;
  }

  notifyCheckpointComplete(): void {
    // Checkpoints complete in order, one at a time: every snapshot taken so far is covered.
    const last = this.awaiting.filter((m) => m !== undefined).pop();
    this.awaiting = [];
    last?.ack();
  }

  private ackLast(): void {
    // AckPolicy.All: acking the last message acknowledges every one before it.
    this.lastMsg?.ack();
    this.lastMsg = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.decoder.close();
    this.room.wake();
    this.arrived.wake();
    const nc = this.nc;
    this.nc = undefined;
    try {
      await this.messages?.close();
    } catch {
      /* closing anyway */
    }
    if (nc) await nc.close().catch(() => {});
  }

  private failed(doing: string, e: unknown): SluiceError {
    return new SluiceError('SOURCE_FAILED', `nats source '${this.ctx.uid}': failed ${doing} stream ${this.opts.stream}: ${(e as Error)?.message ?? String(e)}`, { step: this.ctx.uid, cause: e });
  }
}
