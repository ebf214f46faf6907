/**
 * What a cluster member (`sluice run … --cluster`) tells its metrics and REST API about
 * its share of the cluster. Plain data read when asked: the member keeps plain numbers,
 * and only a scrape turns them into samples (`prometheus.ts`). Declared here, without any
 * Kafka client type, so that observing a job depends neither on the cluster code nor on
 * the Kafka client; `cluster/member-metrics.ts` implements it.
 */
export interface ClusterFiguresSource {
  /** The cluster's name (its consumer group). */
  readonly cluster: string;
  /** The member's figures now; undefined until it has joined the group (its name is known then). */
  figures(): ClusterFigures | undefined;
  /**
   * The consumer lag of every partition the member owns that the group has committed an
   * offset for, asked of the brokers. Resolves with none (never rejects) when they do not
   * answer within `timeoutMs`.
   */
  lag(timeoutMs: number): Promise<readonly PartitionLag[]>;
}

/** How long `/metrics` and `GET /jobs/:id` wait for the brokers' answer about lag before they go without it. */
export const LAG_TIMEOUT_MS = 2000;

/** Where a partition a member owns comes from: a topic the job reads, or one of the cluster's repartition topics. */
export type PartitionRole = 'source' | 'repartition';

/** A partition the member's running attempt owns: the input of one of its tasks. */
export interface OwnedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly role: PartitionRole;
}

/** One owned partition's consumer lag. */
export interface PartitionLag extends OwnedPartition {
  /**
   * The partition's end (last stable offset, read_committed) minus the group's committed
   * offset, at least 0. Offsets count transaction markers, which a member commits its
   * position past, so a partition read to its end comes to 0; records read since the
   * member's last checkpoint count until it commits them.
   */
  readonly lag: number;
}

/** A member's figures at one moment. */
export interface ClusterFigures {
  /** The member's name: its `--member` (instance id), else a random one. */
  readonly member: string;
  /**
   * A member run with several stream threads (`--parallelism N`) is N members of the
   * group, one per thread: their names, the process's own first. Its figures add theirs up.
   */
  readonly threads?: readonly string[];
  /** The partitions its running attempt owns. */
  readonly tasks: readonly OwnedPartition[];
  /** Rebalances that moved its partitions. */
  readonly rebalances: number;
  /**
   * How long the last of them took (ms): from the moment the member heard its group
   * rebalance (else got its new assignment) to the moment an attempt on the new
   * assignment, its tasks' state restored, opened its sources. Undefined before one ended.
   */
  readonly lastRebalanceMs: number | undefined;
  /** Whether an attempt is reading its tasks' state from the changelogs now. */
  readonly restoring: boolean;
  /**
   * Every restore so far added up: how many, and the tasks, state entries, bytes and time
   * (ms) they restored. `local` counts the tasks taken from a copy on the member's disk (its
   * own last write, a standby replica) rather than read from the changelog; `bytes` counts
   * only what was read from the changelogs.
   */
  readonly restored: { readonly restores: number; readonly tasks: number; readonly local: number; readonly entries: number; readonly bytes: number; readonly ms: number };
  /** The task partitions of which the member keeps standby replicas (`--standbys`). */
  readonly standbys: readonly number[];
}
