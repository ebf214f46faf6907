import type { Consumer } from '@platformatic/kafka';
import { closeQuietly, loadKafkaClient, type KafkaClientConnection } from '../connectors/kafka/client.js';
import { ChangelogReader } from './changelog-reader.js';
import { decodeClaims } from './member-claims.js';
import type { Assignment, ClusterMember } from './member.js';
import { standbyPartitions } from './standby-placement.js';
import type { TaskStateCache } from './task-state-cache.js';

/** Options of a member's {@link StandbyReplicas}. */
export interface StandbyOptions {
  readonly cluster: string;
  readonly connection: KafkaClientConnection;
  /** The cluster's changelog topics: a standby task follows its partition of each. */
  readonly changelogs: readonly string[];
  /** Replicas per task on members other than its owner (`--standbys N`); 0 follows nothing and only keeps the member's claims. */
  readonly replicas: number;
  /** How often the followed partitions are checked for a newer commit. */
  readonly intervalMs: number;
}

/** The union of a member's partitions over its topics: its task partitions. */
function taskPartitions(assignment: Assignment | ReadonlyMap<string, { partitions: readonly number[] }>): number[] {
  const out = new Set<number>();
  for (const v of assignment.values()) for (const p of Array.isArray(v) ? (v as readonly number[]) : (v as { partitions: readonly number[] }).partitions) out.add(p);
  return [...out].sort((a, b) => a - b);
}

/**
 * A member's standby replicas (Kafka Streams' standby tasks): warm copies of the state
 * of tasks other members own, kept on this member's disk ({@link TaskStateCache}) so that
 * when the owner dies and the task comes here, its state is already here. After each
 * assignment the member reads its group's description (every member's partitions, from
 * the coordinator) and takes its share of replicas ({@link standbyPartitions}); then it
 * checks, every `intervalMs`, each followed changelog partition's last stable offset and
 * reads the last committed write when it moved. A copy reflects a commit of the owner,
 * never an open transaction (`read_committed`).
 *
 * It also keeps the member's claims (`member-claims.ts`) current: the partitions it owns
 * and those it holds copies of, which the group's leader reads at the next rebalance to
 * give a dead member's tasks to the members that hold them warm. Copies of tasks this
 * member neither owns nor follows are deleted.
 */
export class StandbyReplicas {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private reader: ChangelogReader | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private planning: Promise<void> = Promise.resolve();
  /** The task partitions this member follows as a standby. */
  followed: readonly number[] = [];
  /** Copies brought up to date from the changelogs, over the member's life. */
  updates = 0;

  constructor(
    private readonly member: ClusterMember,
    private readonly cache: TaskStateCache,
    private readonly options: StandbyOptions,
  ) {}

  /**
   * True from an assignment until a plan for it was made (the group may still be
   * completing its rebalance when the member hears); true at first, for the assignment the
   * member joined with before this started.
   */
  private unplanned = true;

  /** Starts following: after every assignment of the member, and every `intervalMs`. */
  start(): void {
    this.member.onAssigned(() => {
      this.unplanned = true;
      this.replan();
    });
    this.member.claim(this.cache.partitions());
    this.replan();
    this.schedule();
  }

  private replan(): void {
    this.planning = this.planning.then(() => (this.unplanned ? this.plan() : undefined)).catch(() => {});
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.replan(); // a plan the last assignment could not make yet (the group was not stable)
      void this.planning
        .then(() => this.poll())
        .catch(() => {}) // the brokers did not answer: the next round asks again
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref?.();
  }

  /** Takes this member's share of standby replicas from the group's description; forgets copies it no longer needs. */
  private async plan(): Promise<void> {
    const owned = taskPartitions(this.member.joinedAssignment);
    let followed: number[] = [];
    if (this.options.replicas > 0) {
      const members = await this.describe();
      if (members === undefined) return; // the group is not stable yet: planned again at the next round
      followed = standbyPartitions(members, this.member.sortKey, this.options.replicas).filter((p) => !owned.includes(p));
    }
    this.unplanned = false;
    this.followed = followed;
    const keep = new Set([...owned, ...followed]);
    for (const c of this.cache.copies()) if (!keep.has(c.partition)) await this.cache.delete(c.topic, c.partition);
    this.claim();
  }

  /** The claims the member sends at its next join: its copies, beside its partitions. */
  private claim(): void {
    this.member.claim(this.cache.partitions());
  }

  /** Every member's sort key and task partitions, as the group's coordinator describes them; undefined while it rebalances. */
  private async describe(): Promise<Array<{ key: string; partitions: number[] }> | undefined> {
    const kafka = await loadKafkaClient();
    const admin = new kafka.Admin({ clientId: `sluice-${this.options.cluster}-${this.member.name}-standby`, ...this.options.connection, retries: 2, retryDelay: 200 });
    try {
      const group = (await admin.describeGroups({ groups: [this.options.cluster] })).get(this.options.cluster);
      if (group === undefined || group.state.replace(/_/g, '').toUpperCase() !== 'STABLE') return undefined;
      return [...group.members.values()].map((m) => {
        const id = decodeClaims(m.metadata?.metadata).id;
        return { key: id.length > 0 ? id : m.id, partitions: taskPartitions(m.assignments ?? new Map()) };
      });
    } finally {
      await admin.close().catch(() => {}); // not closeQuietly: an Admin's close takes a callback
    }
  }

  /** Brings every followed copy up to its changelog partition's last commit. */
  private async poll(): Promise<void> {
    const followed = this.followed;
    if (followed.length === 0 || this.closed) return;
    const reader = await this.changelogReader();
    let fresh = false;
    for (const topic of this.options.changelogs) {
      const bounds = await reader.bounds(topic, followed);
      for (const [p, b] of bounds) {
        if (this.closed || !this.followed.includes(p)) return;
        if (b.end <= b.start || this.cache.endOf(topic, p) === b.end) continue;
        const last = await reader.lastWrite(topic, p, b);
        if (last === undefined) continue;
        fresh ||= !this.cache.partitions().includes(p);
        await this.cache.put(topic, p, b.end, Buffer.concat(last.chunks));
        this.updates++;
      }
    }
    if (fresh) this.claim();
  }

  private async changelogReader(): Promise<ChangelogReader> {
    if (this.reader) return this.reader;
    const { Consumer } = await loadKafkaClient();
    this.consumer = new Consumer({ clientId: `sluice-${this.options.cluster}-${this.member.name}-standby`, ...this.options.connection, groupId: `${this.options.cluster}-standby-${this.member.name}`, retries: 3 });
    return (this.reader = new ChangelogReader(this.consumer));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.planning.catch(() => {});
    const c = this.consumer;
    this.consumer = undefined;
    this.reader = undefined;
    if (c) await closeQuietly(c);
  }
}
