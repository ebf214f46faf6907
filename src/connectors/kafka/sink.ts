import type { MessageToProduce, Producer } from '@platformatic/kafka';
import { checkKafkaAccess, checkSaslOptions, closeQuietly, kafkaClientOptions, loadKafkaClient, type KafkaClient, type KafkaClientConnection } from './client.js';
import type { KafkaConnectionOptions } from './connection.js';
import { checkTlsOptions } from '../../net/tls.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { asBuffer } from '../../formats/format.js';
import { FormatLifecycle } from '../../formats/lifecycle.js';
import type { Duration } from '../../time/duration.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { brokerList, codecOf, type KafkaCodec, type KafkaFormat } from './format.js';
import { brokerTimeoutOf, brokerUnavailable, clientRetryOptions, errorText, isDeadline, isTransient, rideOut, withDeadline, type RideOutOptions } from './outage.js';
import type { KafkaTransactionHandle } from './transaction-handle.js';
import { ensureSinkTopic } from './sink-topic.js';
import { sinkTopicConfigs, type KafkaSinkTopic } from './sink-topic-spec.js';
import { TransactionCoordinators, coordinatorRetriable } from './transactions.js';

/** Options of {@link kafkaSink}. */
export interface KafkaSinkOptions<T> extends KafkaConnectionOptions {
  /** The topic to write. */
  topic: string;
  /** The record key: records with the same key go to the same partition (murmur2, as Java clients do). Without it the client spreads records. */
  key?: (value: T) => string;
  /** How values become bytes (default `'json'`). */
  format?: KafkaFormat<T>;
  /**
   * Upsert mode: records for which this returns true are deletes, written as tombstones
   * (the key with a null value), so that a compacted topic downstream keeps the current
   * state, deletes included (Flink's upsert-kafka sink). Needs `key`. Read such a topic
   * back with `kafkaTable` or `kafkaTableLookup`.
   *
   * @example
   * kafkaSink<Change>({ brokers, topic: 'users', key: (c) => c.id, isDelete: (c) => c.op === 'delete', createTopic: { compacted: true } })
   */
  isDelete?: (value: T) => boolean;
  /**
   * Prefix of the transactional ids (exactly-once only; default `sluice-<topic>-<step uid>`).
   * The sink uses `<prefix>-0`, `<prefix>-1`, … (one per checkpoint in flight) and, on
   * recovery, fences every id it ever used: no two writers may share a prefix.
   */
  transactionalIdPrefix?: string;
  /**
   * How long a pre-committed transaction may wait for its commit before the broker aborts
   * it (default 300 000 ms; at most the broker's `transaction.max.timeout.ms`, 15 min by
   * default). It must cover a checkpoint's completion and a restart: output of a
   * checkpoint whose recovery comes later than this is lost.
   */
  transactionTimeoutMs?: number;
  /** Records per produce request (default 1024: measured fastest with this client, 4096 and 16384 were slower). */
  chunkSize?: number;
  /** The client id shown in broker logs (default `sluice-<step uid>`). */
  clientId?: string;
  /**
   * How long the brokers may be away before the sink fails the job with
   * BROKER_UNAVAILABLE (default 2 minutes). Meanwhile it reconnects with backoff (100 ms
   * doubling to 1 s): writes wait (holding the job back), and a transaction whose commit
   * failed is committed again by its producer id and epoch once a broker answers.
   */
  brokerUnavailableTimeout?: Duration;
  /**
   * Create the topic when it does not exist, with these partitions, replication and
   * retention (`retention.ms`), when the writer opens. Default: the topic must exist. An
   * existing topic is left as it is.
   *
   * @example
   * kafkaSink({ brokers, topic: 'alerts', createTopic: { partitions: 6, retention: '3d' } })
   */
  createTopic?: KafkaSinkTopic;
}

/** The sink {@link kafkaSink} returns: exactly-once in Kafka transactions under `delivery: 'exactly-once'`, at-least-once otherwise. */
export interface KafkaSink<T> extends Sink<T> {
  readonly kind: 'kafka';
  /** The topic written. */
  readonly topic: string;
  /** The options it was made with (cluster mode writes the same records in its members' transactions: `cluster/member-kafka-sink.ts`). */
  readonly options: KafkaSinkOptions<T>;
}

/**
 * Writes records to a Kafka topic. With `delivery: 'exactly-once'` it writes in Kafka
 * transactions that commit with Sluice's checkpoints (two-phase commit, Flink's KafkaSink):
 * each checkpoint epoch gets its own transaction under a pooled transactional id; the
 * barrier flushes it and keeps `{ transactionalId, producerId, producerEpoch }` in the
 * checkpoint (pre-commit); the completed checkpoint commits it. After a crash, `recover`
 * commits the restored transactions again by producer id and epoch (EndTxn, which the
 * client exposes) and then fences every id of the pool, aborting what was written after
 * the checkpoint; the replay writes that again. Consumers reading with
 * `isolation.level=read_committed` see each record exactly once.
 *
 * Otherwise it is at-least-once: an idempotent producer (no duplicates from its own
 * retries) whose writes are flushed at every checkpoint and at the end; a restart
 * replays what came after the last checkpoint.
 *
 * A broker that goes away (a restart, a failover) is ridden out for up to
 * `brokerUnavailableTimeout`: the client resends what failed on new connections, the open
 * transaction goes on where it was, and a commit that failed is done again by the
 * transaction's producer id and epoch (`resumeCommit`) once a broker answers, without a
 * job restart. See `outage.ts`.
 *
 * Limits: a pre-committed transaction that is not committed within
 * `transactionTimeoutMs` (a restart that comes later than that) is aborted by the broker
 * and its records are lost, as with Flink. One writer per prefix.
 *
 * @example
 * const job = new Job({ checkpoints: { interval: '1s' }, delivery: 'exactly-once' });
 * job.source(src, { uid: 'in' }).sinkTo(kafkaSink({ brokers: '127.0.0.1:9092', topic: 'out', key: (o) => o.user }), { uid: 'out' });
 */
export function kafkaSink<T>(options: KafkaSinkOptions<T>): KafkaSink<T> {
  const brokers = brokerList(options.brokers, 'kafkaSink');
  if (typeof options.topic !== 'string' || options.topic === '') throw new SluiceError('INVALID_ARGUMENT', 'kafkaSink: topic must be a non-empty string');
  const codec = codecOf(options.format, 'kafkaSink');
  checkTlsOptions(options.tls, 'kafkaSink');
  checkSaslOptions(options.sasl, 'kafkaSink');
  const timeoutMs = options.transactionTimeoutMs ?? 300_000;
  if (!(timeoutMs >= 1000)) throw new SluiceError('INVALID_ARGUMENT', `kafkaSink: transactionTimeoutMs must be at least 1000, got ${options.transactionTimeoutMs}`);
  const brokerTimeoutMs = brokerTimeoutOf(options.brokerUnavailableTimeout, 'kafkaSink');
  if (options.createTopic !== undefined) sinkTopicConfigs(options.createTopic, options.topic); // refuses a bad declaration when built
  if (options.isDelete !== undefined && (typeof options.isDelete !== 'function' || typeof options.key !== 'function')) {
    throw new SluiceError('INVALID_ARGUMENT', `kafkaSink '${options.topic}': isDelete must be a function, and needs a key function (a tombstone deletes a key)`);
  }
  return {
    kind: 'kafka',
    topic: options.topic,
    options,
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `Kafka topic ${options.topic} on ${brokers.join(',')}${options.key ? ', keyed' : ''}${options.isDelete ? ', tombstones for deletes' : ''}, transactions with checkpoints under exactly-once`,
    createWriter: (ctx) => new KafkaWriter<T>(ctx, brokers, options, codec, timeoutMs, brokerTimeoutMs),
  };
}

/**
 * The Kafka record of one value, as a Kafka sink writes it: its value by the codec (null,
 * a tombstone, when `isDelete` says so) and its key by the key function (BAD_RECORD or
 * USER_FUNCTION_FAILED naming `uid` when either fails).
 * @internal
 */
export function kafkaRecord<T>(v: T, topic: string, key: ((value: T) => string) | undefined, codec: KafkaCodec<T>, uid: string, isDelete?: (value: T) => boolean): { topic: string; key?: Buffer; value: Buffer } {
  let value: Buffer;
  let deleted: boolean;
  try {
    deleted = isDelete?.(v) === true;
  } catch (e) {
    throw new SluiceError('USER_FUNCTION_FAILED', `step '${uid}': the isDelete function of kafkaSink threw for record ${describeRecord(v)}: ${(e as Error).message}`, { step: uid, cause: e });
  }
  try {
    // The client writes a null value as a tombstone (value length -1).
    value = deleted ? (null as unknown as Buffer) : asBuffer(codec.encode(v));
  } catch (e) {
    throw new SluiceError('BAD_RECORD', `kafkaSink: record ${describeRecord(v)} cannot be encoded: ${(e as Error).message}`, { step: uid, cause: e });
  }
  if (!key) return { topic, value };
  let s: unknown;
  try {
    s = key(v);
  } catch (e) {
    throw new SluiceError('USER_FUNCTION_FAILED', `step '${uid}': the key function of kafkaSink threw for record ${describeRecord(v)}: ${(e as Error).message}`, { step: uid, cause: e });
  }
  if (typeof s !== 'string') {
    throw new SluiceError('USER_FUNCTION_FAILED', `step '${uid}': the key function of kafkaSink returned ${describeRecord(s)} for record ${describeRecord(v)}; a key must be a string`, { step: uid });
  }
  return { topic, key: Buffer.from(s, 'utf8'), value };
}

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

/** A transaction being written or waiting for its commit, on the pooled id `slot`. */
interface OpenTransaction {
  readonly slot: number;
  readonly producer: Producer;
  readonly tx: Transaction;
}

class KafkaWriter<T> implements SinkWriter<T> {
  private readonly prefix: string;
  private readonly clientId: string;
  private readonly chunk: number;
  private buffer: MessageToProduce<Buffer, Buffer>[] = [];
  /** The chain of produce requests in flight (one at a time keeps records in order). */
  private sending: Promise<void> = Promise.resolve();
  private sendError: unknown;
  private inflightRecords = 0;
  /** At-least-once: the idempotent producer. */
  private producer: Producer | undefined;
  /** Exactly-once: the transaction of the current checkpoint epoch. */
  private current: OpenTransaction | undefined;
  /** The producer beginning the next transaction, if one is (closed with the writer). */
  private beginning: Producer | undefined;
  private opening: Promise<OpenTransaction> | undefined;
  /** Pre-committed transactions by transactional id. */
  private readonly prepared = new Map<string, OpenTransaction>();
  /** Pooled ids in use (an id is reused only after its transaction committed). */
  private readonly busy = new Set<number>();
  private coordinators: TransactionCoordinators | undefined;
  /** The client library, loaded when the writer opens. */
  private kafka!: KafkaClient;
  /** How the writer's own steps ride out a broker that is away (set when it opens). */
  private rideOut!: RideOutOptions;
  private readonly where: string;
  /** Aborted when the writer closes: retries through an outage stop then. */
  private readonly closing = new AbortController();
  private readonly lifecycle: FormatLifecycle;
  /** Brokers, TLS and SASL as the client takes them (read when the writer opens). */
  private conn!: KafkaClientConnection;

  constructor(
    private readonly ctx: SinkContext,
    private readonly brokers: string[],
    private readonly options: KafkaSinkOptions<T>,
    private readonly codec: KafkaCodec<T>,
    private readonly timeoutMs: number,
    private readonly brokerTimeoutMs: number,
  ) {
    this.prefix = options.transactionalIdPrefix ?? `sluice-${options.topic}-${ctx.uid}`;
    this.clientId = options.clientId ?? `sluice-${ctx.uid}`;
    this.chunk = options.chunkSize ?? 1024;
    this.where = `step '${ctx.uid}' (kafka sink, topic ${options.topic})`;
    this.lifecycle = new FormatLifecycle(codec);
  }

  async open(): Promise<void> {
    this.kafka = await loadKafkaClient();
    this.rideOut = { kafka: this.kafka, clock: this.ctx.clock, timeoutMs: this.brokerTimeoutMs, where: this.where, step: this.ctx.uid, brokers: this.brokers, signal: this.closing.signal };
    this.conn = await kafkaClientOptions(this.options, this.where);
    // A bad certificate or password fails now, clearly, instead of being retried as an outage.
    await checkKafkaAccess(this.kafka, this.conn, this.where, this.ctx.uid);
    if (this.options.createTopic !== undefined) {
      try {
        await ensureSinkTopic(this.kafka, this.conn, this.clientId, this.options.topic, this.options.createTopic);
      } catch (e) {
        throw new SluiceError('SINK_FAILED', `kafka sink '${this.ctx.uid}': could not create topic ${this.options.topic}: ${errorText(e)}`, { step: this.ctx.uid, cause: e });
      }
    }
    // Before the first encode: a Confluent format registers its writer's schema here.
    await this.lifecycle.open();
  }

  private transactionCoordinators(): TransactionCoordinators {
    return (this.coordinators ??= new TransactionCoordinators(this.kafka, this.conn, this.clientId, this.rideOut));
  }

  private newProducer(transactionalId?: string): Producer {
    return new this.kafka.Producer({
      clientId: this.clientId,
      ...this.conn,
      idempotent: true,
      autocreateTopics: false,
      // The client sends this timeout as the transaction timeout too (InitProducerId).
      timeout: transactionalId ? this.timeoutMs : 30_000,
      // The client resends on new connections, with backoff, for about brokerUnavailableTimeout (outage.ts).
      ...clientRetryOptions(this.brokerTimeoutMs, () => this.closing.signal.aborted),
      // -1/-1: a plain InitProducerId, valid for an id used before (the client's default, 0/0, is fenced then).
      ...(transactionalId ? { transactionalId, producerId: -1n, producerEpoch: -1 } : {}),
    });
  }

  write(values: T[]): Promise<void> | void {
    const key = this.options.key;
    const topic = this.options.topic;
    const isDelete = this.options.isDelete;
    for (const v of values) this.buffer.push(kafkaRecord(v, topic, key, this.codec, this.ctx.uid, isDelete));
    if (this.sendError !== undefined) throw this.sendError;
    if (this.buffer.length >= this.chunk) this.sendBuffered();
    // Backpressure: hold the pipeline while more than a few requests' worth is in flight.
    if (this.inflightRecords >= 4 * this.chunk) return this.sending;
  }

  /** Queues the buffered records as the next produce request(s). */
  private sendBuffered(): void {
    while (this.buffer.length > 0) {
      const messages = this.buffer.splice(0, this.chunk);
      this.inflightRecords += messages.length;
      this.sending = this.sending.then(async () => {
        if (this.sendError !== undefined) return;
        const started = this.ctx.clock.now();
        try {
          const sent = this.ctx.transactional ? this.transaction().then((open) => open.tx.send({ messages })) : (this.producer ??= this.newProducer()).send({ messages });
          // The client resends through an outage; past the deadline the writer gives up (and its close ends the resending).
          await withDeadline(sent, started + this.brokerTimeoutMs, this.ctx.clock);
        } catch (e) {
          this.sendError ??= this.writeFailure(e, started);
        } finally {
          this.inflightRecords -= messages.length;
        }
      });
    }
  }

  /** Sends what is buffered and waits for every request; rethrows a send failure. */
  private async drain(): Promise<void> {
    this.sendBuffered();
    await this.sending;
    if (this.sendError !== undefined) throw this.sendError;
  }

  /** The transaction of the current epoch, begun on the lowest free pooled id. */
  private transaction(): Promise<OpenTransaction> {
    if (this.current) return Promise.resolve(this.current);
    return (this.opening ??= (async () => {
      let slot = 0;
      while (this.busy.has(slot)) slot++;
      this.busy.add(slot);
      try {
        // A fresh producer per transaction: InitProducerId gives the id a new epoch, so every
        // transaction has its own (id, epoch) and a late commit of an old handle is refused.
        // A broker that is away: try again with another producer until it answers.
        this.current = await rideOut(
          `begin a transaction on ${this.prefix}-${slot}`,
          async () => {
            const producer = (this.beginning = this.newProducer(`${this.prefix}-${slot}`));
            try {
              return { slot, producer, tx: await producer.beginTransaction() };
            } catch (e) {
              await closeQuietly(producer);
              throw e;
            } finally {
              if (this.beginning === producer) this.beginning = undefined;
            }
          },
          this.rideOut,
        );
        return this.current;
      } catch (e) {
        this.busy.delete(slot);
        throw e instanceof SluiceError ? e : this.failure(`could not begin a transaction on ${this.prefix}-${slot}`, e);
      } finally {
        this.opening = undefined;
      }
    })());
  }

  async preCommit(): Promise<KafkaTransactionHandle | undefined> {
    await this.drain();
    if (!this.ctx.transactional) return undefined; // at-least-once: flushed is enough
    const open = this.current;
    if (!open) return undefined; // nothing written this epoch
    this.current = undefined;
    const producerId = open.producer.producerId;
    const producerEpoch = open.producer.producerEpoch;
    if (producerId === undefined || producerEpoch === undefined) throw this.failure('has no producer id for its transaction', undefined);
    this.prepared.set(open.tx.id, open);
    return { transactionalId: open.tx.id, producerId: producerId.toString(), producerEpoch };
  }

  async commit(transactions: unknown[]): Promise<void> {
    for (const h of transactions as KafkaTransactionHandle[]) {
      const open = this.prepared.get(h.transactionalId);
      if (open && open.producer.producerEpoch === h.producerEpoch && String(open.producer.producerId) === h.producerId) {
        const started = this.ctx.clock.now();
        try {
          await withDeadline(open.tx.commit(), started + this.brokerTimeoutMs, this.ctx.clock);
        } catch (e) {
          if (isDeadline(e)) throw brokerUnavailable(`commit transaction ${h.transactionalId}`, new Error('no answer'), this.ctx.clock.now() - started, this.rideOut);
          if (!coordinatorRetriable(this.kafka, e)) throw this.failure(`could not commit transaction ${h.transactionalId}`, e);
          // The broker went away before the commit was acknowledged (it may have been
          // done): commit it again by producer id and epoch once a broker answers, which
          // is harmless if it was done. Failing here would restart the job for it.
          await this.resume(h, started);
        }
        this.prepared.delete(h.transactionalId);
        this.busy.delete(open.slot);
        await closeQuietly(open.producer);
      } else {
        await this.resume(h);
      }
    }
  }

  /** Commits a pre-committed transaction by its handle, riding out a broker that is away (since `since`). */
  private async resume(h: KafkaTransactionHandle, since?: number): Promise<void> {
    try {
      await this.transactionCoordinators().resumeCommit(h, since);
    } catch (e) {
      throw e instanceof SluiceError ? e : this.failure(`could not commit the transaction ${h.transactionalId} (producer ${h.producerId}, epoch ${h.producerEpoch})`, e);
    }
  }

  async recover(transactions: unknown[]): Promise<void> {
    if (!this.ctx.transactional) return;
    for (const h of transactions as KafkaTransactionHandle[]) await this.resume(h);
    // Then abort whatever an earlier writer left open: fence every pooled id it may have
    // used. Ids are taken lowest first, so the first one never used before ends the sweep.
    const coordinators = this.transactionCoordinators();
    try {
      for (let slot = 0; await coordinators.fence(`${this.prefix}-${slot}`, this.timeoutMs); slot++);
    } catch (e) {
      throw e instanceof SluiceError ? e : this.failure(`could not fence the transactional ids ${this.prefix}-*`, e);
    }
  }

  async flush(): Promise<void> {
    await this.drain();
  }

  async close(): Promise<void> {
    this.closing.abort();
    // An open or prepared transaction stays as it is: a restart's recover commits or aborts it.
    const producers = [this.producer, this.beginning, this.current?.producer, ...[...this.prepared.values()].map((p) => p.producer)];
    this.producer = undefined;
    this.beginning = undefined;
    this.current = undefined;
    this.prepared.clear();
    await Promise.all(producers.map((p) => p && closeQuietly(p)));
    await this.coordinators?.close().catch(() => {});
    await this.lifecycle.close();
  }

  /** Why a write begun at `started` failed: its own error, or BROKER_UNAVAILABLE when no broker served it in time. */
  private writeFailure(e: unknown, started: number): SluiceError {
    if (e instanceof SluiceError) return e;
    const waited = this.ctx.clock.now() - started;
    if (isDeadline(e)) return brokerUnavailable('write', new Error('no answer'), waited, this.rideOut);
    // The client resent it for about brokerUnavailableTimeout before giving up.
    if (isTransient(this.kafka, e)) return brokerUnavailable('write', e, waited, this.rideOut);
    return this.failure('could not write', e);
  }

  private failure(what: string, e: unknown): SluiceError {
    return new SluiceError('SINK_FAILED', `${this.where} ${what}${e === undefined ? '' : `: ${errorText(e)}`}`, { step: this.ctx.uid, cause: e });
  }
}
