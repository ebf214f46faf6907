import { createHash, randomUUID } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import type { Consumer, MessageToProduce } from '@platformatic/kafka';
import { partsOf } from '../checkpoint/step-parts.js';
import type { CheckpointData, CheckpointHandle, CheckpointStorage, StepState } from '../checkpoint/types.js';
import { closeQuietly, loadKafkaClient, type KafkaClientConnection } from '../connectors/kafka/client.js';
import { SluiceError } from '../errors/index.js';
import type { KeyedScopeSnapshot } from '../runtime/operators/keyed-scope.js';
import { CHUNK_HEADER, ChangelogReader, WRITE_HEADER } from './changelog-reader.js';
import type { ClusterMember } from './member.js';
import type { RepartitionPosition } from './repartition-source.js';
import type { TaskStateCache } from './task-state-cache.js';
import { isKeyedSnapshot, splitByPartition } from './task-state.js';
import type { ProducerState } from './watermark-merger.js';

/** Bytes per changelog record: below the broker's default `max.message.bytes` (1 MiB) with room for headers and batch overhead. */
const CHUNK_BYTES = 900 * 1024;

/** A stateful step as the cluster keeps it: its changelog topic, and the repartition topic whose partitions are its tasks. */
export interface ChangelogStep {
  readonly uid: string;
  readonly changelog: string;
  readonly tasksOf: string;
  /** The uids of the repartition sources of its sub-topology: their producers' watermarks are kept with each task's state. */
  readonly inputs: readonly string[];
}

/** What one task's state is in the changelog: the step's kind and version, and the task's share of its state. */
interface TaskState {
  readonly kind: string;
  readonly version: number;
  readonly state: KeyedScopeSnapshot;
  /** Per repartition source of the task, its producers' watermarks in the task's partition. */
  readonly inputs?: Record<string, ProducerState[number]>;
}

/** The producers' watermarks a repartition source's state holds, per partition. */
function producersOf(step: StepState | undefined): ProducerState | undefined {
  const source = step?.state as { position?: Partial<RepartitionPosition> } | undefined;
  return source?.position?.producers;
}

/** Restore figures of one attempt, for logs and metrics. */
export interface RestoreStats {
  readonly tasks: number;
  /** Of those, the tasks taken from a copy on the member's disk (its own last write, a standby replica) rather than read from the changelog. */
  readonly local: number;
  readonly entries: number;
  readonly bytes: number;
  readonly ms: number;
}

/**
 * A cluster member's checkpoints, kept in Kafka: at each checkpoint every stateful step's
 * state is cut into its tasks' shares (by key group, as the repartition topic routes keys)
 * and each share is written to the task's partition of the step's compacted changelog
 * topic, in the member's transaction, which also holds the consumed offsets and every
 * record written since the last checkpoint ({@link ClusterMember.commit}). A task whose
 * state did not change since the member last wrote it is not written again. Whoever owns
 * a task next restores it from the last committed write ({@link restore}): a member that
 * took it over, or this one after a restart.
 *
 * Plain CheckpointStorage operations that mean files (savepoints, listing, retention)
 * have nothing to do here: savepoints of a cluster are refused (`sluice savepoint` stops
 * one process, not the cluster), and retention is compaction's.
 */
export class ChangelogStorage implements CheckpointStorage {
  private readonly written = new Map<string, string>();
  private attempt = randomUUID().slice(0, 8);
  private reader: { consumer: Consumer<Buffer, Buffer, Buffer, Buffer>; changelog: ChangelogReader } | undefined;
  /** The last restore's figures. */
  lastRestore: RestoreStats | undefined;
  /** Every restore's figures added up, over the member's life (its metrics' counters). */
  readonly restoredTotal = { restores: 0, tasks: 0, local: 0, entries: 0, bytes: 0, ms: 0 };
  /** True while an attempt reads its tasks' state from the changelogs: the span {@link RestoreStats.ms} measures. */
  restoring = false;

  constructor(
    private readonly cluster: string,
    private readonly connection: Promise<KafkaClientConnection>,
    private readonly member: Promise<ClusterMember>,
    private readonly steps: readonly ChangelogStep[],
    private readonly partitions: Promise<number>,
    /** Copies of tasks' state on the member's disk, taken instead of the changelog when they are current (once the member has made them). */
    private readonly copiesOf: () => TaskStateCache | undefined = () => undefined,
  ) {}
  private get copies(): TaskStateCache | undefined {
    return this.copiesOf();
  }
  /** The copies of the last commit's writes being noted: the next commit waits for them (see {@link keepCopies}). */
  private noting: Promise<void> = Promise.resolve();
  /** The last stable offset of each changelog partition this attempt owns (`topic/partition`), as it last saw it. */
  private readonly stableEnds = new Map<string, bigint>();

  async write(data: CheckpointData): Promise<CheckpointHandle> {
    const member = await this.member;
    try {
      return await this.commit(member, data);
    } catch (e) {
      member.fail(data.checkpointId, e); // the sources, paused at the barrier, fail the attempt instead of waiting
      throw e;
    }
  }

  private async commit(member: ClusterMember, data: CheckpointData): Promise<CheckpointHandle> {
    const partitions = await this.partitions;
    await this.noting;
    const records: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = [];
    const writes: Array<{ topic: string; partition: number; value: Buffer }> = [];
    let bytes = 0;
    for (const [uid, step] of Object.entries(data.steps)) {
      // Sources keep no state in a cluster: their offsets are committed in the transaction.
      if (step.kind === 'source') continue;
      const parts = partsOf(step).filter((p) => p !== undefined && p !== null);
      // A sink in a cluster keeps no transactions of its own: its records are in the member's.
      if (step.kind === 'sink' && parts.every((p) => ((p as { pending?: unknown[] }).pending ?? []).length === 0)) continue;
      if (parts.length === 0) continue;
      const target = this.steps.find((s) => s.uid === uid);
      if (!target || !parts.every(isKeyedSnapshot)) {
        throw new SluiceError('CLUSTER_UNSUPPORTED', `cluster mode: step '${uid}' keeps state that is not keyed (${step.kind}); a cluster keeps keyed state only, by task`, {
          step: uid,
          hint: 'Key the stream before the stateful step (keyBy), or run the job without --cluster.',
        });
      }
      const owned = member.partitionsOf(target.tasksOf);
      for (const [partition, state] of splitByPartition(parts as KeyedScopeSnapshot[], partitions, owned)) {
        const inputs = Object.fromEntries(target.inputs.flatMap((uid) => {
          const producers = producersOf(data.steps[uid])?.[partition];
          return producers ? [[uid, producers]] : [];
        }));
        const value = serialize({ kind: step.kind, version: step.version, state, inputs } satisfies TaskState);
        const digest = createHash('sha1').update(value).digest('base64');
        const key = `${uid}/${partition}`;
        if (this.written.get(key) === digest) continue;
        this.written.set(key, digest);
        bytes += value.length;
        records.push(...this.chunks(target.changelog, partition, value, `${member.name}:${this.attempt}:${data.checkpointId}`));
        writes.push({ topic: target.changelog, partition, value });
      }
    }
    await member.commit(data.checkpointId, records);
    if (this.copies && writes.length > 0) this.noting = this.keepCopies(writes).catch(() => {});
    return { checkpointId: data.checkpointId, kind: 'checkpoint', path: `kafka:${this.cluster}`, sizeBytes: bytes, completedAt: Date.now() };
  }

  /**
   * Keeps what a commit wrote as the copies of its tasks, each under the last stable offset
   * its changelog partition reached with that commit. Only a partition's owner writes it
   * (any other member is fenced), so its offset before the commit is the one this member
   * last saw (`stableEnds`); the commit's chunks sit above it, and while the commit markers
   * are not yet written the last stable offset stays there. Once it has moved past, it
   * includes this commit and nothing else: the copy is kept under it. A partition whose
   * offset before the commit is unknown, or that does not move within a second, gets no
   * copy (the old one is stale, and deleted). The next commit waits for this.
   */
  private async keepCopies(writes: ReadonlyArray<{ topic: string; partition: number; value: Buffer }>): Promise<void> {
    const copies = this.copies!;
    const reader = await this.changelogReader();
    for (const topic of new Set(writes.map((w) => w.topic))) {
      let waiting = writes.filter((w) => w.topic === topic);
      for (let round = 0; waiting.length > 0 && round < 20; round++) {
        if (round > 0) await new Promise((r) => setTimeout(r, 50));
        const bounds = await reader.bounds(topic, waiting.map((w) => w.partition));
        waiting = waiting.filter((w) => {
          const key = `${topic}/${w.partition}`;
          const before = this.stableEnds.get(key);
          const end = bounds.get(w.partition)!.end;
          if (before === undefined || end <= before) return before !== undefined;
          this.stableEnds.set(key, end);
          void copies.put(topic, w.partition, end, w.value);
          return false;
        });
      }
      for (const w of writes.filter((x) => x.topic === topic && !this.stableEnds.has(`${topic}/${x.partition}`))) await copies.delete(topic, w.partition);
      for (const w of waiting) {
        this.stableEnds.delete(`${topic}/${w.partition}`);
        await copies.delete(topic, w.partition);
      }
    }
  }

  private chunks(topic: string, partition: number, value: Buffer, write: string): MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] {
    const n = Math.max(1, Math.ceil(value.length / CHUNK_BYTES));
    return Array.from({ length: n }, (_, i) => ({
      topic,
      partition,
      key: Buffer.from(`chunk-${i}`),
      value: value.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
      headers: new Map([
        [Buffer.from(CHUNK_HEADER), Buffer.from(`${i}/${n}`)],
        [Buffer.from(WRITE_HEADER), Buffer.from(write)],
      ]),
    }));
  }

  /**
   * The checkpoint an attempt of this member starts from: begins the attempt (the open
   * transaction aborted, the current assignment taken) and reads, for every stateful step,
   * the last committed state of each task the member owns now. Undefined when none of them
   * has state yet.
   */
  async restore(): Promise<CheckpointData | undefined> {
    const member = await this.member;
    await member.beginAttempt();
    this.attempt = randomUUID().slice(0, 8);
    this.written.clear();
    await this.noting; // the last attempt's copies noted before this one reads them
    this.stableEnds.clear();
    const started = Date.now();
    this.restoring = true;
    try {
      return await this.readTasks(member, started);
    } finally {
      this.restoring = false;
    }
  }

  /** The last committed state of every task `member` owns now, into the checkpoint an attempt starts from. */
  private async readTasks(member: ClusterMember, started: number): Promise<CheckpointData | undefined> {
    const reader = await this.changelogReader();
    const steps: Record<string, StepState> = {};
    let tasks = 0;
    let local = 0;
    let entries = 0;
    let bytes = 0;
    for (const s of this.steps) {
      const parts: KeyedScopeSnapshot[] = [];
      const inputs: Record<string, ProducerState> = {};
      let kind = 'window';
      let version = 1;
      const owned = member.partitionsOf(s.tasksOf);
      const bounds = await reader.bounds(s.changelog, owned);
      for (const partition of owned) {
        const b = bounds.get(partition)!;
        this.stableEnds.set(`${s.changelog}/${partition}`, b.end);
        if (b.end <= b.start) continue;
        let buffer = (await this.copies?.get(s.changelog, partition, b.end))?.value;
        if (buffer !== undefined) local++;
        else {
          const last = await reader.lastWrite(s.changelog, partition, b);
          if (!last) continue;
          buffer = Buffer.concat(last.chunks);
          bytes += buffer.length;
          void this.copies?.put(s.changelog, partition, b.end, buffer);
        }
        const task = deserialize(buffer) as TaskState;
        ({ kind, version } = task);
        parts.push(task.state);
        for (const [uid, producers] of Object.entries(task.inputs ?? {})) (inputs[uid] ??= {})[partition] = producers;
        tasks++;
        for (const st of Object.values(task.state.state.states)) entries += 'count' in st ? st.count : st.entries.length;
        // What this member restored is what the changelog holds: unchanged, it need not be written again.
        this.written.set(`${s.uid}/${partition}`, createHash('sha1').update(buffer).digest('base64'));
      }
      if (parts.length > 0) steps[s.uid] = { kind, version, state: undefined, parts };
      // The repartition sources resume with the producers' watermarks of the same commit.
      for (const [uid, producers] of Object.entries(inputs)) {
        const position: RepartitionPosition = { producers: { ...producersOf(steps[uid]), ...producers } };
        steps[uid] = { kind: 'source', version: 1, state: { position } };
      }
    }
    const last = (this.lastRestore = { tasks, local, entries, bytes, ms: Date.now() - started });
    const total = this.restoredTotal;
    total.restores++;
    total.tasks += last.tasks;
    total.local += last.local;
    total.entries += last.entries;
    total.bytes += last.bytes;
    total.ms += last.ms;
    if (tasks === 0) return undefined;
    return { jobName: this.cluster, checkpointId: 0, triggeredAt: started, steps };
  }

  private async changelogReader(): Promise<ChangelogReader> {
    if (this.reader) return this.reader.changelog;
    const { Consumer } = await loadKafkaClient();
    const member = await this.member;
    const consumer = new Consumer({ clientId: `sluice-${this.cluster}-${member.name}-restore`, ...(await this.connection), groupId: `${this.cluster}-restore-${member.name}`, retries: 10 });
    this.reader = { consumer, changelog: new ChangelogReader(consumer) };
    return this.reader.changelog;
  }

  async close(): Promise<void> {
    const r = this.reader;
    this.reader = undefined;
    if (r) await closeQuietly(r.consumer);
  }

  writeSavepoint(): Promise<CheckpointHandle> {
    return Promise.reject(
      new SluiceError('CLUSTER_UNSUPPORTED', `cluster '${this.cluster}': a member takes no savepoints; its state is in the cluster's changelog topics`, {
        hint: 'To change a repartition topic’s partition count, stop every member and start the cluster under a new name (its state starts afresh), or keep the partition count.',
      }),
    );
  }
  async list(): Promise<CheckpointHandle[]> {
    return [];
  }
  read(): Promise<CheckpointData> {
    return Promise.reject(new SluiceError('CLUSTER_UNSUPPORTED', `cluster '${this.cluster}': checkpoints are read from the changelogs (restore)`));
  }
  readPath(): Promise<CheckpointData> {
    return this.read();
  }
  async discard(): Promise<void> {}
}
