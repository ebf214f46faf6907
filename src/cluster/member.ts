import { randomUUID } from 'node:crypto';
import type { Consumer, Message, MessageToProduce, Producer } from '@platformatic/kafka';
import { closeQuietly, loadKafkaClient, type KafkaClientConnection } from '../connectors/kafka/client.js';
import { errorText } from '../connectors/kafka/outage.js';
import { SluiceError } from '../errors/index.js';
import type { Clock } from '../time/clock.js';
import { coPartitionAssignor, memberProtocol } from './co-partition-assignor.js';
import { encodeClaims } from './member-claims.js';
import { lastRecordBefore, type FetchedRecord } from './partition-fetch.js';
import { TopicFetcher } from './topic-fetcher.js';

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;
/** Topic → partition → the next offset to read. */
export type Positions = Map<string, Map<number, number>>;

/** Options of a {@link ClusterMember}. */
export interface MemberOptions {
  /** The brokers and how to reach them (TLS, SASL): spread into every client the member makes. */
  readonly connection: KafkaClientConnection;
  /** The cluster's name: its consumer group. */
  readonly cluster: string;
  /** Static membership (`group.instance.id`): a member that comes back under it within the session timeout keeps its tasks. */
  readonly instanceId?: string | undefined;
  /** Every topic the member's sources read: the job's source topics and the repartition topics. */
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  /** How long the broker lets a transaction stay open (the producer's transaction timeout). */
  readonly transactionTimeoutMs: number;
  /** How long sources wait, paused at a checkpoint, for its commit before the attempt fails. */
  readonly commitTimeoutMs: number;
  /**
   * Exactly-once (default): everything the member writes goes into transactions committed
   * with the consumed offsets. False (the job's `delivery: 'at-least-once'`): records go out
   * at once, without transactions, and a checkpoint commits the offsets after every write
   * before it was acknowledged; after a failure, records since the last commit are
   * processed again (output written twice, and state that counted them counts them again).
   */
  readonly exactlyOnce?: boolean;
  readonly clock: Clock;
}

/** One member's share of the cluster: partitions per topic. */
export type Assignment = ReadonlyMap<string, readonly number[]>;

/**
 * Errors of a commit that mean the group has moved on without this member's generation (a
 * rebalance it had not heard of yet): a rebalance, not a failure, as Kafka Streams treats
 * a CommitFailedException. Not FENCED_INSTANCE_ID: another process runs under this
 * member's name, and restarting at once, never counted, would have the two fence each
 * other without end.
 */
const GROUP_MOVED_ON = ['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID'];

/** Bytes of record values per produce request of changelog records (each record is at most 900 KiB). */
const REQUEST_BYTES = 900 * 1024;

/** `records` cut into runs of at most `limit` value bytes (a larger record alone). */
function bySize<M extends { value?: Buffer | null }>(records: readonly M[], limit: number): M[][] {
  const out: M[][] = [];
  let run: M[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = r.value?.length ?? 0;
    if (run.length > 0 && bytes + size > limit) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(r);
    bytes += size;
  }
  if (run.length > 0) out.push(run);
  return out;
}

function sameAssignment(a: Assignment, b: Assignment): boolean {
  if (a.size !== b.size) return false;
  for (const [topic, ps] of a) {
    const other = b.get(topic);
    if (!other || other.length !== ps.length || ps.some((p, i) => other[i] !== p)) return false;
  }
  return true;
}

/**
 * One process's membership of a cluster, shared by all of its steps for its whole life
 * (across restarts of its job: leaving the group at each restart would rebalance every
 * member). It holds:
 * - the **consumer** of the cluster's group, subscribed to every topic the member's
 *   sources read, with the co-partitioning assignor: its assignment gives the member its
 *   tasks. Sources read their partitions through fetchers of it, made per attempt
 *   (`fetch`), which start at the group's committed offsets;
 * - one **transactional producer**: everything the member writes (repartition records,
 *   Kafka sink records, changelog records) goes into its open transaction, which a
 *   checkpoint commits together with the consumed offsets (`commit`): Kafka Streams'
 *   exactly-once v2. The offsets carry the generation the attempt began in, so the broker
 *   refuses the commit of a member that lost its partitions meanwhile (a zombie);
 * - the **commit gate**: a source that has taken its position for checkpoint n reads no
 *   further until n is committed, so that no record after the barrier lands in n's
 *   transaction (Kafka Streams commits the same way, between records).
 *
 * With `exactlyOnce: false` (a job's `delivery: 'at-least-once'`) the producer has no
 * transactional id: records go out at once, and `commit` commits the offsets through the
 * consumer once everything before the barrier is acknowledged.
 *
 * A rebalance that changes this member's partitions fails the running attempt with
 * CLUSTER_REBALANCE (restarted at once, not counted): the next attempt aborts the open
 * transaction, restores the state of its new partitions from their changelogs and reads
 * on from the committed offsets.
 */
export class ClusterMember {
  /** This member's name: its instance id, else a random one. */
  readonly name: string;
  readonly transactionalId: string;
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private txn: Transaction | undefined;
  private opening: Promise<Transaction> | undefined;
  private sends: Promise<void> = Promise.resolve();
  private failure: unknown;
  private joined: Assignment | undefined;
  /**
   * The generation `joined` was given in. Not the consumer's `generationId`, which a rejoin
   * sets before its assignment comes: an attempt that began in between (restarted by a
   * commit the broker refused for the new generation) would pair the new generation with
   * the old partitions, and its commits would pass.
   */
  private joinedGeneration = 0;
  private joinWaiters: Array<() => void> = [];
  /** The assignment and generation the running attempt began with. */
  private attempt: { assignment: Assignment; generation: number } | undefined;
  private readonly positions = new Map<number, Positions>();
  private readonly gates = new Map<number, { promise: Promise<void>; resolve: () => void; timer: () => void }>();
  /** The last checkpoint this attempt committed, and the sends that wait for a later one. */
  private committed = 0;
  private commitWaiters: Array<{ through: number; resolve: () => void }> = [];
  /** The group's committed offsets of the partitions this attempt owns (`topic/partition`), read once they were stable. */
  private readonly committedOffsets = new Map<string, bigint>();
  /** Reads records by offset for {@link lastRecordBefore}; never joins a group. */
  private fetcher: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Counts attempts: a send of an attempt that has ended must not reach the next one's transaction. */
  private attempts = 0;

  /** The running attempt's number: what a reader notes its positions under. */
  get attemptNumber(): number {
    return this.attempts;
  }
  private attemptFetchers: TopicFetcher[] = [];
  /** Rebalances seen (assignment changes), for metrics and logs. */
  rebalances = 0;
  /**
   * How long the last rebalance that moved this member's partitions took, in ms (see
   * {@link rebalanceSince}); undefined before the first one ended.
   */
  lastRebalanceMs: number | undefined;
  /** When the coordinator told this member that its group rebalances (a heartbeat answered REBALANCE_IN_PROGRESS), until the new assignment is in. */
  private rebalanceHeard: number | undefined;
  /**
   * When the rebalance under way began, undefined when none is: the moment the member heard
   * that its group rebalances, else (a rebalance it learned of only through its new
   * assignment, such as one its own rejoin began) the moment the new assignment came. It
   * ends when an attempt on the newest assignment starts fetching its first source: its tasks'
   * state restored (`ChangelogStorage.restore`), it reads again. So it spans the running
   * attempt failing with CLUSTER_REBALANCE, the wait for the offsets to be stable, the
   * restore and the opening of the steps. A second rebalance before the first ended
   * extends it. Rebalances that leave this member's partitions as they were are not
   * counted (they stop nothing).
   */
  private rebalanceSince: number | undefined;

  /**
   * The protocol the consumer joins with, one object for the member's life: the client
   * encodes its `metadata` anew at every (re)join, so the member's current claims
   * (`member-claims.ts`) reach the group's leader at each rebalance.
   */
  private readonly protocol: ReturnType<typeof memberProtocol>;
  /** Task partitions whose state the member holds copies of (see {@link claim}). */
  private warm: readonly number[] = [];
  private readonly assignedListeners: Array<() => void> = [];

  constructor(private readonly options: MemberOptions) {
    this.name = options.instanceId ?? randomUUID().slice(0, 8);
    this.transactionalId = `${options.cluster}-${this.name}`;
    this.protocol = memberProtocol(options.instanceId);
  }

  /** How the group orders this member: its instance id, else its member id. */
  get sortKey(): string {
    return this.options.instanceId ?? this.consumer?.memberId ?? this.name;
  }

  /** The member's partitions as the group last gave them (the running attempt may still be on older ones). */
  get joinedAssignment(): Assignment {
    return this.joined ?? new Map();
  }

  /** Calls `listener` after every assignment the group gives the member. */
  onAssigned(listener: () => void): void {
    this.assignedListeners.push(listener);
  }

  /**
   * Tells the group, at the member's next join, that it holds copies of the state of the
   * task partitions `warm` (standby replicas, state files left by an earlier run), besides
   * the partitions it owns: the leader prefers it for those tasks.
   */
  claim(warm: readonly number[]): void {
    this.warm = [...warm];
    this.encodeClaims();
  }

  private encodeClaims(): void {
    const owned = [...new Set([...(this.joined?.values() ?? [])].flat())].sort((a, b) => a - b);
    this.protocol.metadata = encodeClaims({ id: this.options.instanceId ?? '', owned, warm: this.warm.filter((p) => !owned.includes(p)) });
  }

  /** Joins the group and makes the producer; resolves once the first assignment is in. */
  async start(): Promise<void> {
    const kafka = await loadKafkaClient();
    const { connection, cluster, sessionTimeoutMs, instanceId } = this.options;
    const clientId = `sluice-${cluster}-${this.name}`;
    const consumer = (this.consumer = new kafka.Consumer({
      clientId,
      ...connection,
      groupId: cluster,
      ...(instanceId ? { groupInstanceId: instanceId } : {}),
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 5)),
      rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
      protocols: [this.protocol],
      partitionAssigner: coPartitionAssignor,
      autocommit: false,
      isolationLevel: 1,
      maxWaitTime: 100,
      retries: 10,
    }));
    consumer.on('consumer:group:rebalance', () => {
      this.rebalanceHeard ??= this.options.clock.now();
    });
    consumer.on('consumer:group:join', () => {
      const next = new Map<string, number[]>();
      for (const a of consumer.assignments ?? []) next.set(a.topic, [...a.partitions].sort((x, y) => x - y));
      if (this.joined && !sameAssignment(this.joined, next)) {
        this.rebalances++;
        this.rebalanceSince ??= this.rebalanceHeard ?? this.options.clock.now();
      }
      this.rebalanceHeard = undefined;
      this.joined = next;
      this.joinedGeneration = consumer.generationId;
      this.encodeClaims();
      for (const w of this.joinWaiters.splice(0)) w();
      for (const l of this.assignedListeners) l();
    });
    // The member's subscription: every topic its sources read, for the whole of its life (a
    // topic tracked and untracked with each attempt would make the consumer rejoin, a rebalance).
    for (const topic of this.options.topics) consumer.topics.track(topic);
    await consumer.joinGroup({
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 5)),
      rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
      protocols: [this.protocol],
      partitionAssigner: coPartitionAssignor,
    });
    this.producer = this.newProducer(kafka);
  }

  private get exactlyOnce(): boolean {
    return this.options.exactlyOnce !== false;
  }

  private newProducer(kafka: Awaited<ReturnType<typeof loadKafkaClient>>): Producer<Buffer, Buffer, Buffer, Buffer> {
    return new kafka.Producer({
      clientId: `sluice-${this.options.cluster}-${this.name}`,
      ...this.options.connection,
      idempotent: true,
      autocreateTopics: false,
      timeout: this.options.transactionTimeoutMs,
      retries: 10,
      ...(this.exactlyOnce ? { transactionalId: this.transactionalId, producerId: -1n, producerEpoch: -1 } : {}),
    });
  }

  /** The group generation of the running attempt: what its repartition markers speak under. */
  get generation(): number {
    return this.attempt?.generation ?? 0;
  }

  /** The partitions of `topic` the running attempt owns. */
  partitionsOf(topic: string): readonly number[] {
    return this.attempt?.assignment.get(topic) ?? [];
  }

  /** The partitions the running attempt owns, by topic (empty before the first attempt): its tasks' inputs. */
  get assignment(): Assignment {
    return this.attempt?.assignment ?? new Map();
  }

  /**
   * Starts an attempt of the member's job: aborts what the last one left in its
   * transaction, forgets its positions, and takes the current assignment (waiting for the
   * group's first). Called by the changelog storage before it restores.
   */
  async beginAttempt(): Promise<Assignment> {
    await this.abortOpen();
    for (const f of this.attemptFetchers.splice(0)) await f.stop();
    for (const g of this.gates.values()) g.timer();
    this.gates.clear();
    this.positions.clear();
    this.attempts++;
    this.releaseSends(Number.POSITIVE_INFINITY);
    this.committed = 0;
    this.failure = undefined;
    this.sends = Promise.resolve();
    if (this.joined === undefined) await new Promise<void>((resolve) => this.joinWaiters.push(resolve));
    await this.rejoined();
    this.attempt = { assignment: this.joined!, generation: this.joinedGeneration };
    await this.awaitStableOffsets(this.attempt.assignment);
    return this.attempt.assignment;
  }

  /** After a commit the group refused, waits (at most a session timeout) until the member has an assignment of a later generation. */
  private async rejoined(): Promise<void> {
    const stale = this.movedOnFrom;
    this.movedOnFrom = undefined;
    if (stale === undefined) return;
    const deadline = Date.now() + this.options.sessionTimeoutMs;
    while (this.joinedGeneration <= stale && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.joinWaiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /**
   * Waits until no transaction of a previous owner holds offsets of the partitions this
   * attempt owns: the broker answers UNSTABLE_OFFSET_COMMIT until that transaction commits
   * or aborts (a live owner is fenced and aborts; a dead one's times out). Without the wait,
   * its commit could land between the attempt's read of the changelogs and of the offsets:
   * state from before that commit, offsets from after it, and the records between lost.
   */
  private async awaitStableOffsets(assignment: Assignment): Promise<void> {
    const topics = [...assignment].filter(([, ps]) => ps.length > 0).map(([name, ps]) => ({ name, partitionIndexes: [...ps] }));
    if (topics.length === 0) return;
    const kafka = await loadKafkaClient();
    const admin = new kafka.Admin({ clientId: `sluice-${this.options.cluster}-${this.name}-offsets`, ...this.options.connection, retries: 2, retryDelay: 100 });
    const deadline = Date.now() + 2 * this.options.transactionTimeoutMs + 10_000;
    try {
      for (;;) {
        try {
          const groups = await admin.listConsumerGroupOffsets({ groups: [{ groupId: this.consumer!.groupId, topics }], requireStable: true });
          this.committedOffsets.clear();
          for (const t of groups[0]?.topics ?? []) for (const p of t.partitions) if (p.committedOffset >= 0n) this.committedOffsets.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
          return;
        } catch (e) {
          const unstable = (e as { findBy?: (k: string, v: string) => unknown }).findBy?.('apiId', 'UNSTABLE_OFFSET_COMMIT');
          if (!unstable) throw e;
          if (Date.now() > deadline) {
            throw new SluiceError('CHECKPOINT_FAILED', `cluster '${this.options.cluster}': the offsets of member ${this.name}'s partitions stayed held by another member's open transaction for longer than twice the transaction timeout`, { cause: e });
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await admin.close().catch(() => {}); // not closeQuietly: an Admin's close takes a callback, not `force`
    }
  }

  private async abortOpen(): Promise<void> {
    const txn = this.txn ?? (await this.opening?.catch(() => undefined));
    this.txn = undefined;
    this.opening = undefined;
    if (txn === undefined || txn.completed) return;
    try {
      await txn.abort();
    } catch {
      // A producer that cannot abort (fenced, or its broker gone): a new one under the same
      // transactional id bumps the epoch, which aborts what the old one left open.
      const old = this.producer;
      this.producer = this.newProducer(await loadKafkaClient());
      if (old) await closeQuietly(old);
    }
  }

  /**
   * Fails with CLUSTER_REBALANCE when the group moved this member's partitions since the
   * attempt began (the attempt restarts with the new ones), or with the failure of a
   * commit. A rebalance that left this member's partitions as they were only moves the
   * attempt to the new generation: nobody else owned them in between.
   */
  check(): void {
    if (this.failure !== undefined) throw this.failure;
    const attempt = this.attempt;
    const joined = this.joined;
    if (attempt === undefined || joined === undefined || joined === attempt.assignment) return;
    if (sameAssignment(joined, attempt.assignment)) {
      this.attempt = { assignment: joined, generation: this.joinedGeneration };
      this.rebalanceOver(); // partitions moved away and back before the attempt noticed: it never stopped
      return;
    }
    throw new SluiceError('CLUSTER_REBALANCE', `cluster '${this.options.cluster}': the group moved partitions of member ${this.name}; restarting on the new ones`);
  }

  /**
   * The last record of `topic`'s `partition` before the offset the attempt resumes at, if
   * the group had committed one: where that partition's event time was (see
   * `partition-fetch.ts`).
   */
  async lastRecordBefore(topic: string, partition: number): Promise<FetchedRecord | undefined> {
    const committed = this.committedOffsets.get(`${topic}/${partition}`);
    if (committed === undefined || committed === 0n) return undefined;
    if (!this.fetcher) {
      const kafka = await loadKafkaClient();
      this.fetcher = new kafka.Consumer({ clientId: `sluice-${this.options.cluster}-${this.name}-fetch`, ...this.options.connection, groupId: `${this.options.cluster}-fetch-${this.name}`, retries: 3 });
    }
    return lastRecordBefore(this.fetcher, topic, partition, committed);
  }

  /** An attempt on the newest assignment reads: the rebalance under way, if any, is over. */
  private rebalanceOver(): void {
    if (this.rebalanceSince === undefined) return;
    this.lastRebalanceMs = this.options.clock.now() - this.rebalanceSince;
    this.rebalanceSince = undefined;
  }

  /** Starts fetching the running attempt's partitions of `topic` from the group's committed offsets (else `options.reset`); stopped when the next attempt begins. */
  async fetch(topic: string, options: ConstructorParameters<typeof TopicFetcher>[2]): Promise<TopicFetcher> {
    const fetcher = new TopicFetcher(this.consumer!, topic, options);
    this.attemptFetchers.push(fetcher);
    await fetcher.start(this.partitionsOf(topic), (p) => this.committedOffsets.get(`${topic}/${p}`));
    if (this.attempt && this.joined && sameAssignment(this.attempt.assignment, this.joined)) this.rebalanceOver();
    return fetcher;
  }

  /**
   * Sends `messages` in the open transaction (one send at a time: the idempotent producer's
   * sequence numbers need their order). `after` is the last checkpoint whose barrier the
   * sending step has passed: its records belong to the next transaction, so they wait until
   * that checkpoint is committed. Without the wait, a window fired after the barrier (by an
   * idle producer's watermark, a timer) would be committed with a checkpoint whose state
   * still holds it, and fire again after a restore.
   */
  async send(messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[], after?: number): Promise<void> {
    const attempt = this.attempts;
    // At-least-once: nothing waits for a commit (a record may go out twice anyway).
    if (this.exactlyOnce && after !== undefined && after > this.committed) {
      await new Promise<void>((resolve) => this.commitWaiters.push({ through: after, resolve }));
      if (this.failure !== undefined) throw this.failure;
    }
    return this.enqueue(messages, attempt);
  }

  /** The error of a send from an attempt that has ended (its records are dropped: the next attempt makes them again). */
  private ended(): SluiceError {
    return new SluiceError('CLUSTER_REBALANCE', `cluster '${this.options.cluster}': member ${this.name} began a new attempt; the last one's writes are dropped`);
  }

  private releaseSends(through: number): void {
    const waiting = this.commitWaiters;
    this.commitWaiters = waiting.filter((w) => w.through > through);
    for (const w of waiting) if (w.through <= through) w.resolve();
  }

  private enqueue(messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[], attempt = this.attempts): Promise<void> {
    if (attempt !== this.attempts) return Promise.reject(this.ended());
    if (messages.length === 0) return this.sends;
    const next = this.sends.then(async () => {
      if (attempt !== this.attempts) throw this.ended();
      if (!this.exactlyOnce) {
        await this.producer!.send({ messages });
        return;
      }
      const txn = await this.transaction();
      await txn.send({ messages });
    });
    this.sends = next.catch(() => {});
    return next.catch((e: unknown) => {
      if (attempt !== this.attempts) throw this.ended(); // not this attempt's failure
      const error = new SluiceError('SINK_FAILED', `cluster '${this.options.cluster}': writing ${messages[0]!.topic} failed: ${errorText(e)}`, { cause: e });
      this.failure ??= error;
      throw error;
    });
  }

  private transaction(): Promise<Transaction> {
    if (this.txn) return Promise.resolve(this.txn);
    return (this.opening ??= this.producer!.beginTransaction().then((t) => {
      this.txn = t;
      this.opening = undefined;
      return t;
    }));
  }

  /** A source took its position for checkpoint `checkpointId`: the offsets the checkpoint commits for `topic`. */
  notePositions(checkpointId: number, topic: string, positions: ReadonlyMap<number, number>, attemptNumber = this.attempts): void {
    if (attemptNumber !== this.attempts) return; // a reader of an attempt that has ended: its positions are not this attempt's
    let byTopic = this.positions.get(checkpointId);
    if (!byTopic) this.positions.set(checkpointId, (byTopic = new Map()));
    byTopic.set(topic, new Map(positions));
  }

  /** Settles once checkpoint `checkpointId` is committed (or the attempt failed): until then the source that calls it reads nothing more. */
  gate(checkpointId: number): Promise<void> {
    let g = this.gates.get(checkpointId);
    if (!g) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      const timer = setTimeout(() => {
        this.failure ??= new SluiceError('CHECKPOINT_FAILED', `cluster '${this.options.cluster}': checkpoint ${checkpointId} was not committed within ${this.options.commitTimeoutMs} ms`);
        resolve();
      }, this.options.commitTimeoutMs);
      timer.unref();
      g = { promise, resolve, timer: () => (clearTimeout(timer), resolve()) };
      this.gates.set(checkpointId, g);
    }
    return g.promise;
  }

  private openGates(upTo: number): void {
    for (const [id, g] of this.gates) {
      if (id > upTo) continue;
      g.timer();
      this.gates.delete(id);
    }
  }

  /**
   * Commits checkpoint `checkpointId`: `records` (its changelog records) and the offsets its
   * sources noted go into the open transaction, with everything sent since the last
   * commit, and the transaction commits. A failure (a zombie fenced, a broker gone) fails
   * the attempt: the transaction is aborted when the next attempt begins.
   */
  async commit(checkpointId: number, records: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[]): Promise<void> {
    try {
      this.check();
      // One request per ~1 MB: the broker refuses a request larger than its message size limit.
      for (const batch of bySize(records, REQUEST_BYTES)) await this.enqueue(batch);
      await this.sends;
      this.check();
      const positions = this.positions.get(checkpointId) ?? new Map();
      for (const id of [...this.positions.keys()]) if (id <= checkpointId) this.positions.delete(id);
      const offsets = [...positions].flatMap(([topic, ps]) => [...ps].map(([partition, next]) => ({ topic, partition, next })));
      if (!this.exactlyOnce) {
        // Every write before the barrier is acknowledged (awaited above): the offsets follow.
        if (offsets.length > 0) await this.consumer!.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.next), leaderEpoch: -1 })) });
      } else if (this.txn !== undefined || this.opening !== undefined || offsets.length > 0) {
        await this.commitTransaction(offsets);
      }
    } catch (e) {
      const error = e instanceof SluiceError ? e : this.commitError(checkpointId, e);
      this.fail(checkpointId, error);
      throw error;
    }
    this.committed = Math.max(this.committed, checkpointId);
    this.openGates(checkpointId);
    this.releaseSends(checkpointId);
  }

  /**
   * A commit the broker refused because the group moved on (a rebalance began, or ended
   * without this member) is a rebalance, not a failure: the attempt restarts on the new
   * assignment once the consumer has rejoined (`beginAttempt` waits for it).
   */
  private commitError(checkpointId: number, e: unknown): SluiceError {
    const findBy = (e as { findBy?: (k: string, v: string) => unknown }).findBy?.bind(e);
    if (findBy && GROUP_MOVED_ON.some((code) => findBy('apiId', code))) {
      this.movedOnFrom = this.attempt?.generation;
      return new SluiceError('CLUSTER_REBALANCE', `cluster '${this.options.cluster}': the group moved on before member ${this.name} committed checkpoint ${checkpointId} (${errorText(e)}); restarting on the new assignment`, { cause: e });
    }
    return new SluiceError('CHECKPOINT_FAILED', `cluster '${this.options.cluster}': committing checkpoint ${checkpointId} failed: ${errorText(e)}`, { cause: e });
  }
  /** The generation a commit was refused in: the next attempt waits for a later one. */
  private movedOnFrom: number | undefined;

  /** Commits the open transaction with `offsets`, under the generation the attempt began in. */
  private async commitTransaction(offsets: Array<{ topic: string; partition: number; next: number }>): Promise<void> {
    const txn = await this.transaction();
    if (offsets.length > 0) {
      const consumer = this.consumer!;
      await txn.addConsumer(consumer);
      // The generation the attempt began in: the broker refuses it once the group moved on without us.
      const group = { groupId: consumer.groupId, generationId: this.attempt!.generation, memberId: consumer.memberId, coordinatorId: consumer.coordinatorId };
      for (const o of offsets) {
        await txn.addOffset({ topic: o.topic, partition: o.partition, offset: BigInt(o.next - 1), metadata: { consumer: group } } as unknown as Message<Buffer, Buffer, Buffer, Buffer>);
      }
    }
    await txn.commit();
    this.txn = undefined;
  }

  /** Checkpoint `checkpointId` cannot be committed: the attempt fails (its sources, paused at the barrier, throw `error`). */
  fail(checkpointId: number, error: unknown): void {
    this.failure ??= error;
    this.openGates(checkpointId);
    this.releaseSends(Number.POSITIVE_INFINITY);
  }

  /** Leaves the group (its partitions move at once) and aborts the open transaction. */
  async close(): Promise<void> {
    await this.abortOpen().catch(() => {});
    for (const f of this.attemptFetchers.splice(0)) await f.stop();
    const { consumer, producer, fetcher } = this;
    this.consumer = undefined;
    this.producer = undefined;
    this.fetcher = undefined;
    if (fetcher) await closeQuietly(fetcher);
    if (consumer) await closeQuietly(consumer);
    if (producer) await closeQuietly(producer);
  }
}
