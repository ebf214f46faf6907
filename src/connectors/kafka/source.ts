import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { checkKafkaAccess, checkSaslOptions, closeQuietly, closeReading, kafkaClientOptions, loadKafkaClient, type KafkaClient, type KafkaClientConnection } from './client.js';
import type { KafkaConnectionOptions } from './connection.js';
import { checkTlsOptions } from '../../net/tls.js';
import { SluiceError } from '../../errors/index.js';
import { FormatLifecycle } from '../../formats/lifecycle.js';
import { toMillis, type Duration } from '../../time/duration.js';
import { callTimestamp } from '../shared/timestamp.js';
import { Wakeup, wait } from '../shared/wait.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import { brokerList, codecOf, type KafkaCodec, type KafkaFormat } from './format.js';
import { brokerTimeoutOf, brokerUnavailable, clientRetryOptions, isTransient, rideOut, type RideOutOptions } from './outage.js';
import { mergePositions, newMember, readPosition, type KafkaSourcePosition } from './position.js';
import { PartitionWatermarks } from './watermarks.js';
import { splitAssigner, type SplitOwner } from './split-assigner.js';

/** Options of {@link kafkaSource}. */
export interface KafkaSourceOptions<T> extends KafkaConnectionOptions {
  /** The topic to read. */
  topic: string;
  /** The consumer group: processes of one job share the topic's partitions through it. */
  groupId: string;
  /** How record values become records (default `'json'`); one that throws makes a bad record. */
  format?: KafkaFormat<T>;
  /**
   * Where to begin without a checkpoint: `'committed'` (default) the group's committed
   * offsets, else the earliest; `'earliest'`; `'latest'`. A restored checkpoint always wins.
   */
  startFrom?: 'earliest' | 'latest' | 'committed';
  /** Event time of a record (default: the Kafka record timestamp). */
  timestamp?: (value: T) => number;
  /**
   * Per-partition watermarks emitted by the source itself (see `watermarks.ts`): the
   * highest timestamp seen per partition minus `outOfOrderness`, combined as the minimum
   * over partitions that delivered something within `idleTimeout` (default: never idle).
   * Without it the source emits no watermark and the job's WatermarkStrategy decides,
   * over the source's merged stream (so one slow partition's records may arrive late).
   */
  watermarks?: { outOfOrderness: Duration; idleTimeout?: Duration };
  /** Read only committed transactional records (default true: `isolation.level=read_committed`). */
  readCommitted?: boolean;
  /** Group session timeout (default 10 s): how soon a crashed member's partitions move. */
  sessionTimeout?: Duration;
  /** The client id shown in broker logs (default `sluice-<step uid>`). */
  clientId?: string;
  /**
   * Bounded reading (Flink's `setBounded(latest)`): the source ends once it has read up to
   * the offsets that were the latest (last stable, under read_committed) when it opened.
   * For backfills, tests and benchmarks; in parallel, each reader ends at its own partitions' offsets.
   */
  bounded?: boolean;
  /**
   * How long the brokers may be away before the source fails the job with
   * BROKER_UNAVAILABLE (default 2 minutes). Meanwhile it reconnects with backoff (100 ms
   * doubling to 1 s) and goes on reading where it was, without a job restart.
   */
  brokerUnavailableTimeout?: Duration;
}

/** The source {@link kafkaSource} returns: replayable by offsets, parallel (partitions are its splits), bounded only with `bounded: true`. */
export interface KafkaSource<T> extends Source<T> {
  readonly kind: 'kafka';
  readonly bounded: boolean;
  readonly replayable: true;
  /** The topic read. */
  readonly topic: string;
  /** The options it was made with (cluster mode runs the same source on the cluster's group: `cluster/member-kafka-source.ts`). */
  readonly options: KafkaSourceOptions<T>;
}

/**
 * Reads a Kafka topic as a member of a consumer group; the group's partitions are the
 * source's splits. Replayable: a checkpoint keeps the next offset of every partition this
 * reader handed records out of (plus the restored ones), and a restore seeks there, so
 * with a transactional sink the job is exactly-once end to end. Offsets are also committed
 * to the group when a checkpoint completes, for lag monitoring only; recovery never reads
 * them. A record whose value cannot be decoded goes to `ctx.badRecord` with its position
 * `topic/partition@offset` (dead-lettered or failing the job, by the job's policy).
 *
 * Parallel: at parallelism P, reader i owns the partitions p with p % P = i, as Flink's
 * Kafka source assigns splits. Each reader is a static member of the group (its
 * `group.instance.id` is kept in its checkpointed position, so that after a crash the
 * restored reader takes its own place at once, see `position.ts`); the group's
 * assignment (`split-assigner.ts`) gives every partition to the newest member with its
 * reader index, and a reader hands out records of its own partitions only (the client
 * gives a member alone in the group every partition until the others join). A checkpoint
 * restores at another parallelism: the readers' positions are merged (the highest offset
 * per partition) and each new reader seeks its own partitions there.
 *
 * A broker that goes away (a restart, a failover) is ridden out for up to
 * `brokerUnavailableTimeout`: the client fetches again on new connections with backoff
 * and the reader goes on from where it was. A record the stream delivers again (a
 * rejoin rewinds it to the group's committed offsets) is not handed out twice. See `outage.ts`.
 *
 * Limits: positions are per topic-partition of one job. Two jobs restored from one
 * checkpoint or savepoint at once are one group member twice: the broker fences the
 * older reader (FENCED_INSTANCE_ID), which fails. Processes that run the job at
 * parallelism 1 with one group share the partitions through it (round robin); after a
 * rebalance between them, a partition this reader read before and gets back resumes
 * where this reader left it. At parallelism above 1, one process reads the topic.
 *
 * @example
 * job.source(kafkaSource<Click>({ brokers: '127.0.0.1:9092', topic: 'clicks', groupId: 'scores',
 *   watermarks: { outOfOrderness: '2s', idleTimeout: '10s' } }), { uid: 'clicks' });
 */
export function kafkaSource<T>(options: KafkaSourceOptions<T>): KafkaSource<T> {
  return { kind: 'kafka', ...kafkaSourceParts(options, 'kafkaSource', valueOf) };
}

/**
 * Turns a fetched Kafka record into the source's record (its value, or for a table, a
 * change); throwing makes it a bad record. Called with the source's decoded value codec.
 * @internal
 */
export type KafkaRecordReader<V, T> = (m: Message<Buffer, Buffer, Buffer, Buffer>, codec: KafkaCodec<V>) => T;

/** A plain source's record: the value, decoded (a tombstone has none, so it is a bad record). */
const valueOf = <T>(m: Message<Buffer, Buffer, Buffer, Buffer>, codec: KafkaCodec<T>): T => {
  if (m.value == null) throw new Error('the record has no value (a tombstone)');
  return codec.decode(m.value);
};

/**
 * What every Kafka-topic source shares (options checked, the reader, positions); the
 * caller adds its `kind`. `read` makes the source's record of a fetched Kafka record.
 * @internal
 */
export function kafkaSourceParts<V, T>(options: KafkaSourceOptions<V>, who: string, read: KafkaRecordReader<V, T>): Omit<KafkaSource<T>, 'kind' | 'options'> & { options: KafkaSourceOptions<V> } {
  const brokers = brokerList(options.brokers, who);
  if (typeof options.topic !== 'string' || options.topic === '') throw new SluiceError('INVALID_ARGUMENT', `${who}: topic must be a non-empty string`);
  if (typeof options.groupId !== 'string' || options.groupId === '') throw new SluiceError('INVALID_ARGUMENT', `${who}: groupId must be a non-empty string`);
  const startFrom = options.startFrom ?? 'committed';
  if (!['earliest', 'latest', 'committed'].includes(startFrom)) {
    throw new SluiceError('INVALID_ARGUMENT', `${who}: startFrom must be 'earliest', 'latest' or 'committed', not ${JSON.stringify(startFrom)}`);
  }
  const codec = codecOf(options.format, who);
  checkTlsOptions(options.tls, who);
  checkSaslOptions(options.sasl, who);
  const wm = options.watermarks && {
    outOfOrderness: toMillis(options.watermarks.outOfOrderness, `${who} watermarks.outOfOrderness`),
    idleTimeout: options.watermarks.idleTimeout === undefined ? Number.POSITIVE_INFINITY : toMillis(options.watermarks.idleTimeout, `${who} watermarks.idleTimeout`),
  };
  const sessionTimeout = options.sessionTimeout === undefined ? 10_000 : toMillis(options.sessionTimeout, `${who} sessionTimeout`);
  const brokerTimeoutMs = brokerTimeoutOf(options.brokerUnavailableTimeout, who);
  return {
    bounded: options.bounded === true,
    replayable: true,
    topic: options.topic,
    options,
    parallel: true,
    describe: () => `Kafka topic ${options.topic} on ${brokers.join(',')}, group ${options.groupId}`,
    createReader: (ctx) => new KafkaReader<V, T>(ctx, brokers, options, startFrom, codec, read, wm, sessionTimeout, brokerTimeoutMs),
    redistributePositions: (positions) => mergePositions(positions),
  };
}

/** The Kafka protocol error code of a group member replaced by another with its group.instance.id. */
const FENCED_INSTANCE_ID = 82;

class KafkaReader<V, T> implements SourceReader<T> {
  private consumer: Consumer | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Records fetched and not yet polled (read from `head`). */
  private queue: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  private head = 0;
  private paused = false;
  private failure: unknown;
  private readonly wakeup = new Wakeup();
  /** The next offset per partition: what a checkpoint keeps. */
  private readonly positions = new Map<number, number>();
  /** The positions of the latest checkpoint, committed to the group once it completes. */
  private lastSnapshot: Map<number, number> | undefined;
  private readonly watermarks: PartitionWatermarks | undefined;
  private readonly highWater: number;
  /** Bounded reading: the end offset per partition. */
  private ends: Map<number, number> | undefined;
  /** The lag-monitoring commit in flight, if any (see notifyCheckpointComplete). */
  private committing: Promise<void> | undefined;
  private rideOut!: RideOutOptions;
  /** Aborted when the reader closes or the job stops: retries through an outage stop then. */
  private readonly closing = new AbortController();
  /** This reader's static group membership (group.instance.id), kept in its position. */
  private readonly member: string;
  private readonly lifecycle: FormatLifecycle;
  /** Brokers, TLS and SASL as the client takes them (read when the reader opens). */
  private conn!: KafkaClientConnection;

  constructor(
    private readonly ctx: SourceContext,
    private readonly brokers: string[],
    private readonly options: KafkaSourceOptions<V>,
    private readonly startFrom: 'earliest' | 'latest' | 'committed',
    private readonly codec: KafkaCodec<V>,
    private readonly read: KafkaRecordReader<V, T>,
    wm: { outOfOrderness: number; idleTimeout: number } | undefined,
    private readonly sessionTimeout: number,
    private readonly brokerTimeoutMs: number,
  ) {
    this.watermarks = wm && new PartitionWatermarks(wm.outOfOrderness, wm.idleTimeout);
    this.highWater = Math.max(4 * ctx.maxBatchSize, 8192);
    const restored = readPosition(ctx.restoredPosition);
    for (const [p, o] of Object.entries(restored?.offsets ?? {})) this.positions.set(Number(p), o);
    this.member = restored?.member ?? newMember(ctx.uid, ctx.subtask.index);
    this.lifecycle = new FormatLifecycle(codec);
  }

  /** Whether this reader hands out the partition's records: at parallelism P, reader i owns p % P = i. */
  private owns(partition: number): boolean {
    const { index, parallelism } = this.ctx.subtask;
    return parallelism === 1 || partition % parallelism === index;
  }

  async open(): Promise<void> {
    await this.lifecycle.open();
    const kafka = await loadKafkaClient();
    this.rideOut = {
      kafka,
      clock: this.ctx.clock,
      timeoutMs: this.brokerTimeoutMs,
      where: `step '${this.ctx.uid}' (kafka source, topic ${this.options.topic})`,
      step: this.ctx.uid,
      brokers: this.brokers,
      signal: AbortSignal.any([this.ctx.signal, this.closing.signal]),
    };
    this.conn = await kafkaClientOptions(this.options, this.rideOut.where);
    // A bad certificate or password fails now, clearly, instead of being retried as an outage.
    await checkKafkaAccess(kafka, this.conn, this.rideOut.where, this.ctx.uid);
    // A broker that is away when the reader opens (a job restarting during an outage):
    // wait for it with a fresh consumer per try.
    await rideOut('connect', () => this.connect(kafka), this.rideOut);
  }

  private async connect(kafka: KafkaClient): Promise<void> {
    const { Consumer } = kafka;
    const owner: SplitOwner = { sluice: 1, index: this.ctx.subtask.index, parallelism: this.ctx.subtask.parallelism, openedAt: Date.now() };
    const consumer = (this.consumer = new Consumer({
      clientId: this.options.clientId ?? `sluice-${this.ctx.uid}`,
      ...this.conn,
      groupId: this.options.groupId,
      sessionTimeout: this.sessionTimeout,
      heartbeatInterval: Math.max(500, Math.floor(this.sessionTimeout / 5)),
      rebalanceTimeout: Math.max(this.sessionTimeout, 10_000),
      autocommit: false,
      isolationLevel: this.options.readCommitted === false ? 0 : 1,
      maxWaitTime: Math.max(10, Math.min(this.ctx.maxPollWaitMs, 500)),
      // The client fetches (and heartbeats, rejoins) again with backoff for about brokerUnavailableTimeout (outage.ts).
      ...clientRetryOptions(this.brokerTimeoutMs, () => this.closing.signal.aborted),
      protocols: [{ name: 'sluice-splits', version: 1, metadata: JSON.stringify(owner) }],
      partitionAssigner: splitAssigner,
      groupInstanceId: this.member,
    }));
    // A rejoin that failed for good after the client's retries (not a stream error).
    consumer.on('error', (e: unknown) => this.fail(e));
    // Another reader joined as this member: one restored from the same checkpoint runs.
    consumer.on('consumer:heartbeat:error', ({ error }: { error?: { findBy?: (k: string, v: unknown) => unknown } }) => {
      if (error?.findBy?.('apiCode', FENCED_INSTANCE_ID)) this.fail(this.fenced(error));
    });
    consumer.on('consumer:group:join', (payload) => {
      const mine = (payload.assignments ?? consumer.assignments ?? []).find((a) => a.topic === this.options.topic);
      this.watermarks?.assign((mine?.partitions ?? []).filter((p) => this.owns(p)), this.ctx.clock.now());
    });
    const topic = this.options.topic;
    try {
      await this.consume(consumer, topic);
    } catch (e) {
      this.consumer = undefined;
      await closeQuietly(consumer);
      throw e;
    }
  }

  private async consume(consumer: Consumer, topic: string): Promise<void> {
    // The end offsets are taken once: a reader that reconnects keeps the first ones.
    if (this.options.bounded && !this.ends) {
      const latest = await consumer.listOffsets({ topics: [topic], isolationLevel: this.options.readCommitted === false ? 0 : 1 });
      this.ends = new Map((latest.get(topic) ?? []).map((o, p) => [p, Number(o)]));
    }
    const fallback = this.startFrom === 'latest' ? 'latest' : 'earliest';
    const restored = [...this.positions].map(([partition, offset]) => ({ topic, partition, offset: BigInt(offset) }));
    const stream = (this.stream = await consumer.consume({
      topics: [topic],
      ...(restored.length > 0
        ? { mode: 'manual' as const, offsets: restored, fallbackMode: fallback }
        : this.startFrom === 'committed'
          ? { mode: 'committed' as const, fallbackMode: fallback }
          : { mode: this.startFrom }),
    }));
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      this.queue.push(m);
      if (this.queue.length - this.head >= this.highWater && !this.paused) {
        this.paused = true;
        stream.pause();
      }
      if (this.queue.length - this.head === 1) this.wakeup.wake();
    });
    stream.on('error', (e: unknown) => this.fail(e));
  }

  /**
   * The reader cannot go on: the next poll throws. A failure that only says no broker
   * answered comes after the client's retries of about brokerUnavailableTimeout, so it
   * is BROKER_UNAVAILABLE.
   */
  private fail(e: unknown): void {
    this.failure ??= isTransient(this.rideOut.kafka, e) ? brokerUnavailable('read', e, this.brokerTimeoutMs, this.rideOut) : e;
    this.wakeup.wake();
  }

  private fenced(e: unknown): SluiceError {
    return new SluiceError(
      'SOURCE_FAILED',
      `${this.rideOut.where}: another reader joined group ${this.options.groupId} as this reader's member ${this.member}, so this one stops; two jobs run from one checkpoint or savepoint`,
      { step: this.ctx.uid, cause: e, hint: 'Run one job per checkpoint: stop the other one, or start this one afresh (without the checkpoint) under another groupId.' },
    );
  }

  async poll(): Promise<SourceBatch<T>> {
    if (this.failure !== undefined) throw this.failure;
    if (this.head >= this.queue.length) {
      await wait(this.ctx.clock, this.ctx.maxPollWaitMs, this.ctx.signal, this.wakeup);
      if (this.failure !== undefined) throw this.failure;
    }
    const n = Math.min(this.ctx.maxBatchSize, this.queue.length - this.head);
    const values: T[] = [];
    const timestamps: number[] = [];
    const now = this.ctx.clock.now();
    const topic = this.options.topic;
    // Given by kafkaSource only, where V is T (a table's options have none).
    const tsFn = this.options.timestamp as ((value: T) => number) | undefined;
    // The format's prepare sees the batch before it is decoded (a Confluent format fetches the schemas its ids name).
    const raws: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.queue[this.head + i]!.value;
      if (v != null) raws.push(v);
    }
    await this.lifecycle.prepare(raws);
    for (let i = 0; i < n; i++) {
      const m = this.queue[this.head++]!;
      // Another reader's partition, fetched while this member was alone in the group: that reader reads it.
      if (!this.owns(m.partition)) continue;
      const offset = Number(m.offset);
      // Handed out already: the stream went back (on a rejoin, a stream of startFrom
      // 'committed' seeks to the group's committed offsets, which trail the checkpoints).
      // Exactly-once needs each record once: see `source.test.ts`.
      if (offset < (this.positions.get(m.partition) ?? 0)) continue;
      this.positions.set(m.partition, offset + 1);
      let value: T;
      try {
        value = this.read(m, this.codec);
      } catch (e) {
        this.ctx.badRecord(m.value ?? new Uint8Array(0), e, `${topic}/${m.partition}@${offset}`);
        continue;
      }
      const ts = tsFn ? callTimestamp(tsFn, [value], 'the timestamp function of kafkaSource', value, this.ctx.uid) : Number(m.timestamp);
      values.push(value);
      timestamps.push(ts);
      this.watermarks?.observe(m.partition, ts, now);
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 65_536) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.queue.length - this.head < this.highWater / 2) {
      this.paused = false;
      this.stream?.resume();
    }
    const batch: SourceBatch<T> = { values, timestamps };
    if (this.ends && this.head >= this.queue.length && this.reachedEnd()) batch.done = true;
    const watermark = this.watermarks?.advance(now);
    if (watermark !== undefined) batch.watermark = watermark;
    return batch;
  }

  /** Bounded: every partition fetched up to its end offset (fetch offsets step over transaction markers). */
  private reachedEnd(): boolean {
    const fetched = this.stream?.offsetsToFetch;
    // Records still buffered inside the stream have not reached the queue yet.
    if (!fetched || this.stream!.readableLength > 0) return false;
    for (const [p, end] of this.ends!) {
      if (end === 0 || !this.owns(p)) continue;
      const at = fetched.get(`${this.options.topic}:${p}`);
      if (at === undefined || Number(at) < end) return false;
    }
    return true;
  }

  snapshotPosition(): KafkaSourcePosition {
    this.lastSnapshot = new Map(this.positions);
    return { offsets: Object.fromEntries(this.positions), member: this.member };
  }

  /**
   * Commits the checkpointed offsets to the group: for lag monitoring and for the next
   * run's `startFrom: 'committed'`, never read back by recovery. Not awaited (a commit
   * retried through a broker outage would hold the reader back), except the last one of
   * a bounded job; while one is in flight, later checkpoints skip theirs.
   */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const snap = this.lastSnapshot;
    const consumer = this.consumer;
    if (!snap || snap.size === 0 || !consumer) return;
    const offsets = [...snap]
      .filter(([partition]) => this.owns(partition))
      .map(([partition, offset]) => ({ topic: this.options.topic, partition, offset: BigInt(offset), leaderEpoch: -1 }));
    const final = checkpointId === Number.MAX_SAFE_INTEGER;
    if (this.committing && !final) return;
    // A rebalance may refuse the commit; the next checkpoint commits again.
    const commit = (async () => {
      await this.committing;
      await consumer.commit({ offsets }).catch(() => {});
    })();
    this.committing = commit;
    void commit.then(() => {
      if (this.committing === commit) this.committing = undefined;
    });
    if (final) await commit;
  }

  async close(): Promise<void> {
    this.closing.abort();
    const { stream, consumer } = this;
    this.stream = undefined;
    this.consumer = undefined;
    await closeReading(stream, consumer);
    await this.lifecycle.close();
  }
}
