import type { MessageToProduce, Producer } from '@platformatic/kafka';
import { loadKafkaClient, type KafkaClient } from './client.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { brokerList, codecOf, type KafkaCodec, type KafkaFormat } from './format.js';
import type { KafkaTransactionHandle } from './transaction-handle.js';
import { TransactionCoordinators } from './transactions.js';

/** Options of {@link kafkaSink}. */
export interface KafkaSinkOptions<T> {
  /** Bootstrap brokers, `'host:port'` (an array or a comma-separated string). */
  brokers: string | readonly string[];
  /** The topic to write. */
  topic: string;
  /** The record key: records with the same key go to the same partition (murmur2, as Java clients do). Without it the client spreads records. */
  key?: (value: T) => string;
  /** How values become bytes (default `'json'`). */
  format?: KafkaFormat<T>;
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
}

/** The sink {@link kafkaSink} returns: exactly-once in Kafka transactions under `delivery: 'exactly-once'`, at-least-once otherwise. */
export interface KafkaSink<T> extends Sink<T> {
  readonly kind: 'kafka';
  /** The topic written. */
  readonly topic: string;
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
  const timeoutMs = options.transactionTimeoutMs ?? 300_000;
  if (!(timeoutMs >= 1000)) throw new SluiceError('INVALID_ARGUMENT', `kafkaSink: transactionTimeoutMs must be at least 1000, got ${options.transactionTimeoutMs}`);
  return {
    kind: 'kafka',
    topic: options.topic,
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `Kafka topic ${options.topic} on ${brokers.join(',')}${options.key ? ', keyed' : ''}, transactions with checkpoints under exactly-once`,
    createWriter: (ctx) => new KafkaWriter<T>(ctx, brokers, options, codec, timeoutMs),
  };
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
  private opening: Promise<OpenTransaction> | undefined;
  /** Pre-committed transactions by transactional id. */
  private readonly prepared = new Map<string, OpenTransaction>();
  /** Pooled ids in use (an id is reused only after its transaction committed). */
  private readonly busy = new Set<number>();
  private coordinators: TransactionCoordinators | undefined;
  /** The client library, loaded when the writer opens. */
  private kafka!: KafkaClient;

  constructor(
    private readonly ctx: SinkContext,
    private readonly brokers: string[],
    private readonly options: KafkaSinkOptions<T>,
    private readonly codec: KafkaCodec<T>,
    private readonly timeoutMs: number,
  ) {
    this.prefix = options.transactionalIdPrefix ?? `sluice-${options.topic}-${ctx.uid}`;
    this.clientId = options.clientId ?? `sluice-${ctx.uid}`;
    this.chunk = options.chunkSize ?? 1024;
  }

  async open(): Promise<void> {
    this.kafka = await loadKafkaClient();
  }

  private newProducer(transactionalId?: string): Producer {
    return new this.kafka.Producer({
      clientId: this.clientId,
      bootstrapBrokers: this.brokers,
      idempotent: true,
      autocreateTopics: false,
      // The client sends this timeout as the transaction timeout too (InitProducerId).
      timeout: transactionalId ? this.timeoutMs : 30_000,
      retries: 10,
      // -1/-1: a plain InitProducerId, valid for an id used before (the client's default, 0/0, is fenced then).
      ...(transactionalId ? { transactionalId, producerId: -1n, producerEpoch: -1 } : {}),
    });
  }

  write(values: T[]): Promise<void> | void {
    const key = this.options.key;
    const topic = this.options.topic;
    for (const v of values) {
      let value: Buffer;
      let k: Buffer | undefined;
      try {
        value = this.codec.encode(v);
      } catch (e) {
        throw new SluiceError('BAD_RECORD', `kafkaSink: record ${describeRecord(v)} cannot be encoded: ${(e as Error).message}`, { step: this.ctx.uid, cause: e });
      }
      if (key) {
        let s: unknown;
        try {
          s = key(v);
        } catch (e) {
          throw new SluiceError('USER_FUNCTION_FAILED', `step '${this.ctx.uid}': the key function of kafkaSink threw for record ${describeRecord(v)}: ${(e as Error).message}`, { step: this.ctx.uid, cause: e });
        }
        if (typeof s !== 'string') {
          throw new SluiceError('USER_FUNCTION_FAILED', `step '${this.ctx.uid}': the key function of kafkaSink returned ${describeRecord(s)} for record ${describeRecord(v)}; a key must be a string`, { step: this.ctx.uid });
        }
        k = Buffer.from(s, 'utf8');
      }
      this.buffer.push(k === undefined ? { topic, value } : { topic, key: k, value });
    }
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
        try {
          if (this.ctx.transactional) await (await this.transaction()).tx.send({ messages });
          else await (this.producer ??= this.newProducer()).send({ messages });
        } catch (e) {
          this.sendError ??= this.failure('could not write', e);
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
      // A fresh producer per transaction: InitProducerId gives the id a new epoch, so every
      // transaction has its own (id, epoch) and a late commit of an old handle is refused.
      const producer = this.newProducer(`${this.prefix}-${slot}`);
      try {
        const tx = await producer.beginTransaction();
        this.current = { slot, producer, tx };
        return this.current;
      } catch (e) {
        this.busy.delete(slot);
        await closeQuietly(producer);
        throw e;
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
        try {
          await open.tx.commit();
        } catch (e) {
          throw this.failure(`could not commit transaction ${h.transactionalId}`, e);
        }
        this.prepared.delete(h.transactionalId);
        this.busy.delete(open.slot);
        await closeQuietly(open.producer);
      } else {
        await this.resume(h);
      }
    }
  }

  private async resume(h: KafkaTransactionHandle): Promise<void> {
    this.coordinators ??= new TransactionCoordinators(this.kafka, this.brokers, this.clientId);
    try {
      await this.coordinators.resumeCommit(h);
    } catch (e) {
      throw this.failure(`could not commit the restored transaction ${h.transactionalId} (producer ${h.producerId}, epoch ${h.producerEpoch})`, e);
    }
  }

  async recover(transactions: unknown[]): Promise<void> {
    if (!this.ctx.transactional) return;
    for (const h of transactions as KafkaTransactionHandle[]) await this.resume(h);
    // Then abort whatever an earlier writer left open: fence every pooled id it may have
    // used. Ids are taken lowest first, so the first one never used before ends the sweep.
    this.coordinators ??= new TransactionCoordinators(this.kafka, this.brokers, this.clientId);
    try {
      for (let slot = 0; await this.coordinators.fence(`${this.prefix}-${slot}`, this.timeoutMs); slot++);
    } catch (e) {
      throw this.failure(`could not fence the transactional ids ${this.prefix}-*`, e);
    }
  }

  async flush(): Promise<void> {
    await this.drain();
  }

  async close(): Promise<void> {
    // An open or prepared transaction stays as it is: a restart's recover commits or aborts it.
    const producers = [this.producer, this.current?.producer, ...[...this.prepared.values()].map((p) => p.producer)];
    this.producer = undefined;
    this.current = undefined;
    this.prepared.clear();
    await Promise.all(producers.map((p) => p && closeQuietly(p)));
    await this.coordinators?.close().catch(() => {});
  }

  private failure(what: string, e: unknown): SluiceError {
    const message = e instanceof Error ? e.message : e === undefined ? '' : String(e);
    const detail = e && typeof e === 'object' && 'errors' in e ? ` (${(e as { errors: Error[] }).errors.map((x) => x.message).join('; ')})` : '';
    return new SluiceError('SINK_FAILED', `step '${this.ctx.uid}' (kafka sink, topic ${this.options.topic}) ${what}${message ? `: ${message}` : ''}${detail}`, { step: this.ctx.uid, cause: e });
  }
}

/** Closes a client, ignoring errors (it may be closing because it failed). */
export async function closeQuietly(client: { close(force?: boolean): Promise<void> }): Promise<void> {
  try {
    await client.close(true);
  } catch {
    // already failed or closed
  }
}
