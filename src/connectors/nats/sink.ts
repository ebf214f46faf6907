import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { SluiceError } from '../../errors/index.js';
import type { Format } from '../../formats/format.js';
import { FormatLifecycle } from '../../formats/lifecycle.js';
import { describeTls } from '../shared/describe-tls.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { checkNatsConnection, connectNats, loadJetStream } from './client.js';
import type { NatsConnectionOptions } from './connection.js';

/** Options of {@link natsSink}: where NATS is, and what to publish where. */
export interface NatsSinkOptions<T> extends NatsConnectionOptions {
  /** The subject to publish on (it must belong to a JetStream stream), or one per record. */
  subject: string | ((value: T) => string);
  /** How records become message payloads (`jsonFormat<T>()`, …). */
  format: Format<T>;
  /**
   * The message id for JetStream's duplicate detection (`Nats-Msg-Id`). Default: derived
   * from the record's place in the output since the last checkpoint (see natsSink). Give
   * a natural id (an order id) when records have one: it deduplicates across runs too.
   */
  msgId?: (value: T) => string;
  /** Publishes in flight before a write waits for their acks (default 1024). */
  maxInFlight?: number;
}

/** The sink {@link natsSink} returns: effectively exactly-once through JetStream's duplicate detection. */
export interface NatsSink<T> extends Sink<T> {
  readonly kind: 'nats-jetstream';
  /** Publishes the stream acknowledged as duplicates (deduplicated replays), across writers. */
  readonly stats: { published: number; duplicates: number };
}

/** What a checkpoint holds for the sink: the run its message ids belong to, and how many records it had written. */
interface NatsSinkTransaction {
  readonly run: string;
  readonly count: number;
}

/**
 * Publishes records to JetStream, each with a `Nats-Msg-Id`, and waits for the stream's
 * acks at every checkpoint barrier (`preCommit`), so a completed checkpoint covers them.
 *
 * Guarantee: effectively exactly-once, by JetStream's duplicate detection. By default the
 * id of a record is `<uid>:<run>:<n>`: the n-th record this sink wrote in this run of the
 * job, with the run (the job's execution id, `SinkContext.executionId`: the same across
 * restarts, new with every start) and n kept in every checkpoint. After a restart the job
 * replays the same records in the same order (a replayable source through deterministic
 * steps), from its checkpoint or, before the first one, from the start, so they get the
 * same ids and the stream drops them as duplicates. Limits: the stream's
 * `duplicate_window` (default 2 minutes) must outlast a restart; steps whose output order
 * is not deterministic (several inputs merged) need a natural `msgId`.
 *
 * @example
 * scores.sinkTo(natsSink({ subject: 'scores.out', format: jsonFormat<Score>(), msgId: (s) => s.id }), { uid: 'scores-out' });
 */
export function natsSink<T>(opts: NatsSinkOptions<T>): NatsSink<T> {
  if (!opts || (typeof opts.subject !== 'string' && typeof opts.subject !== 'function') || opts.subject === '') {
    throw new SluiceError('INVALID_ARGUMENT', 'natsSink: subject must be a non-empty string or a function of the record');
  }
  if (!opts.format || typeof opts.format.encode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'natsSink: format is required (jsonFormat(), …)');
  checkNatsConnection(opts, 'natsSink');
  const stats = { published: 0, duplicates: 0 };
  return {
    kind: 'nats-jetstream',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    stats,
    describe: () => `nats jetstream publish to ${typeof opts.subject === 'string' ? opts.subject : '(subject per record)'} (${opts.format.name}, deduplicated by Nats-Msg-Id${describeTls(opts.tls)})`,
    createWriter: (ctx) => new NatsWriter<T>(opts, ctx, stats),
  };
}

class NatsWriter<T> implements SinkWriter<T> {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private inFlight: Promise<PubAck>[] = [];
  /**
   * Ids are `<uid>:<run>:<n>`, n counting every record written in the run; both are kept
   * in checkpoints. The run is the job's execution until a checkpoint names another.
   */
  private run: string;
  private count = 0;
  private readonly lifecycle: FormatLifecycle;

  constructor(
    private readonly opts: NatsSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly stats: { published: number; duplicates: number },
  ) {
    this.run = ctx.executionId;
    this.lifecycle = new FormatLifecycle(opts.format);
  }

  async open(): Promise<void> {
    this.nc = await connectNats(this.opts, this.ctx.uid, 'sink');
    this.js = (await loadJetStream()).jetstream(this.nc);
    await this.lifecycle.open();
  }

  async recover(transactions: unknown[]): Promise<void> {
    // The latest transaction of the restored checkpoint: the replay goes on from its count.
    let latest: NatsSinkTransaction | undefined;
    for (const t of transactions as NatsSinkTransaction[]) if (!latest || t.count >= latest.count) latest = t;
    if (latest) {
      this.run = latest.run;
      this.count = latest.count;
    }
  }

  write(values: T[]): Promise<void> | void {
    const subject = this.opts.subject;
    for (const v of values) {
      const data = this.opts.format.encode(v);
      const msgID = this.opts.msgId ? this.opts.msgId(v) : `${this.ctx.uid}:${this.run}:${this.count}`;
      this.count++;
      const p = this.js!.publish(typeof subject === 'string' ? subject : subject(v), data, { msgID });
      p.catch(() => {}); // awaited in settle(); never unhandled
      this.inFlight.push(p);
    }
    if (this.inFlight.length >= (this.opts.maxInFlight ?? 1024)) return this.settle();
  }

  private async settle(): Promise<void> {
    const all = this.inFlight;
    this.inFlight = [];
    let acks: PubAck[];
    try {
      acks = await Promise.all(all);
    } catch (e) {
      throw new SluiceError('SINK_FAILED', `nats sink '${this.ctx.uid}': a publish was not acknowledged: ${(e as Error).message}`, {
        hint: 'Check that a JetStream stream captures the subject (nats stream add) and that the server is up.',
        step: this.ctx.uid,
        cause: e,
      });
    }
    this.stats.published += acks.length;
    for (const a of acks) if (a.duplicate) this.stats.duplicates++;
  }

  /** At a barrier: every publish so far is acknowledged by the stream; the checkpoint keeps the run and count. */
  async preCommit(): Promise<NatsSinkTransaction> {
    await this.settle();
    return { run: this.run, count: this.count };
  }

  /** Nothing to publish: the stream has the messages since preCommit. */
  async commit(): Promise<void> {}

  async flush(): Promise<void> {
    await this.settle();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    this.inFlight = [];
    const nc = this.nc;
    this.nc = undefined;
    if (nc) await nc.close().catch(() => {});
    await this.lifecycle.close();
  }
}
