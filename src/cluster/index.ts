/**
 * Cluster mode: one job run by several processes (members), on several machines, with
 * Apache Kafka as the distributed engine (the architecture of Kafka Streams, with Flink's
 * semantics). We write no cluster manager, membership protocol or consensus of our own.
 *
 * The design:
 * - **Sub-topologies.** The logical plan is cut at its keyed (`hash`) exchanges
 *   (`topology.ts`); each connected piece is a sub-topology. Forward edges stay inside one
 *   process, as chains do today; broadcast edges are refused in cluster mode for now.
 * - **Tasks.** A task is (sub-topology, partition): the sub-topology's steps run for one
 *   partition of its input topics: a source sub-topology for a partition of its source
 *   topic, a keyed one for a partition of its repartition topics.
 * - **Internal topics** (`internal-topics.ts`), created by the job with the partition
 *   count and replication factor it needs, and checked when they exist (a mismatch is
 *   `CLUSTER_TOPIC_MISMATCH`, never silently used):
 *   `<cluster>-<uid>-repartition` per keyed exchange (`uid` is the consuming step's; a second
 *   input adds `-<input>`), `<cluster>-<uid>-changelog` per stateful step (compacted), and
 *   `<cluster>-meta` (compacted) whose first `job` record is the graph fingerprint
 *   (`fingerprint.ts`): a member of a different job under the same cluster name is refused
 *   with `CLUSTER_JOB_MISMATCH`.
 * - **Repartitioning by key group.** A record goes to the partition that owns its key's
 *   key group, exactly as Flink assigns key-group ranges to subtasks
 *   (`subtaskForKeyGroup(keyGroupOf(key), partitions)` from `state/key-groups.ts`), so a
 *   task's keyed state is a contiguous key-group range and a changelog partition holds
 *   exactly the state of its task.
 * - **Event time across processes** (`repartition-codec.ts`, `watermark-merger.ts`): every
 *   producing task writes, besides its records, a watermark marker into every partition
 *   of the repartition topic: its watermark, speaking for the input partitions it reads
 *   in this attempt, under the group generation the attempt began in; it announces itself
 *   with one when it opens. A consuming task takes, per repartition partition and input
 *   partition, the word of the newest generation; its watermark is the minimum over the
 *   input partitions that are not idle, unknown until every input partition has been
 *   spoken for; over its partitions, the minimum again. A member that dies leaves its
 *   input partitions' word where it was until the member that takes them over speaks, so
 *   their records are never late for having moved; a zombie's late marker is ignored.
 *   Only a producer without partitioned input (a non-Kafka source) speaks for itself and
 *   is let go after the idle timeout of silence (it repeats its marker meanwhile).
 * - **A member** (`cluster-graph.ts`, `member.ts`): `sluice run job.ts --cluster <name>
 *   --kafka <brokers> [--member <id>]` or `job.start({ cluster })` runs the job's graph with
 *   each keyed exchange cut into a `RepartitionOperator` (`<uid>-repartition-out`) and a
 *   repartition source (`<uid>-repartition-in`); the rest of the graph runs on the usual
 *   runtime (operators, chains, windows, timers, sinks).
 * - **Assignment** (`co-partition-assignor.ts`): all members of a cluster form one
 *   consumer group named after it, subscribed to the job's source topics and repartition
 *   topics (the member tracks them itself, so a restart of its attempt does not rejoin).
 *   Partition p of every topic goes to the member p % M, members ordered by their instance
 *   id (carried as protocol user data): co-partitioned topics stay together, and a member
 *   that comes back under the same `--member` name (static membership,
 *   `group.instance.id`) within the session timeout gets the same partitions back.
 * - **Kafka sources in cluster mode** (`member-kafka-source.ts`): a source keeps its topic,
 *   format, timestamps and watermarks; its partitions come from the cluster's group, so
 *   its own `groupId` is not used; `startFrom: 'latest'` starts a partition without a
 *   committed offset at its end (otherwise at its beginning); `bounded` is ignored (a
 *   cluster runs until stopped). Its offsets are committed in the member's transactions.
 * - **Exactly-once** (`member.ts`, `changelog-storage.ts`): one transactional producer per
 *   member (`<cluster>-<member>`) sends the repartition records, the sink records and, at
 *   each checkpoint (every second by default), each task's keyed state into its changelog
 *   partition, then commits the consumed offsets in the same transaction with the
 *   attempt's group generation (Kafka's exactly-once v2: a member whose partitions moved
 *   is fenced). Sources pause after their position is taken until the transaction commits.
 *   A `read_committed` reader of the output sees every result once.
 * - **State that follows its task** (`task-state.ts`, `changelog-reader.ts`): keyed state
 *   is split by key group into the partitions that own it; a chunk is written only when it
 *   changed. When the group moves partitions (`CLUSTER_REBALANCE`), the member aborts its
 *   open transaction and restarts its attempt at once (not counted by the restart policy),
 *   restoring the tail of each owned changelog partition before it reads anything.
 * - **State where it is** (`co-partition-assignor.ts`, `member-claims.ts`,
 *   `task-state-cache.ts`, `standby-replicas.ts`, `standby-placement.ts`): members tell
 *   the group at each join which tasks they own and which they hold copies of; the
 *   assignor keeps tasks where they run (sticky) and sends the ones that must move to
 *   members holding them warm. Each member keeps a copy of its tasks' state on disk,
 *   stamped with the changelog's last stable offset it reflects; a restore takes the copy
 *   when that offset is still the changelog's (local state reuse). With `standbys` N,
 *   every task has warm copies on N other members, which follow its changelog partition.
 * - **Stream threads** (`launch/cluster-threads.ts`): a member run with `--parallelism N`
 *   runs N threads, each a member of the group with its own consumer and transactional
 *   producer (`--member m` names them `m`, `m-t1`, …), as Kafka Streams' stream threads
 *   are: tasks spread over every thread of every process, exactly-once unchanged. The
 *   process's metrics and REST API add its threads' figures up.
 * - **Status** (`status.ts`): `sluice cluster status` / {@link clusterStatus} reads a cluster
 *   from Kafka alone (group, members and their partitions, committed and end offsets, lag,
 *   internal topics) without joining its group. Which topics are a cluster's is decided by
 *   name, with the groups of clusters whose names collide (`a`, `a-b`) as evidence
 *   (`cluster-topics.ts`).
 * - **Metrics** (`member-figures.ts`): each member's `/metrics` and `GET /jobs/:id` show
 *   the partitions it owns, its rebalances and their duration, its restores, and the lag
 *   of its partitions, read with the status's offsets (`partition-offsets.ts`).
 *
 * What it leaves (known limits):
 * - state that is not keyed (an operator's list state, a non-Kafka source's position) is
 *   refused in cluster mode (`CLUSTER_UNSUPPORTED`), as are savepoints and
 *   `--from-checkpoint`, and exactly-once sinks other than Kafka's;
 * - a member's whole keyed state is written per changed partition at each checkpoint (not
 *   each change as it happens); a task read from the changelog is read whole (its last
 *   write), and a standby copies it whole after each change;
 * - a member that dies leaves its open transaction until the broker's transaction timeout
 *   (`transactionTimeout`, default 10 s as in Kafka Streams) unless it comes back under
 *   the same `--member` name, which fences it at once: `read_committed` readers of its
 *   partitions wait for it;
 * - records cross repartition topics as JSON (no bigint keys).
 *
 * @module
 */
export { cutSubTopologies, type ClusterTopology, type SubTopology, type RepartitionEdge, repartitionTopicName, changelogTopicName, metaTopicName } from './topology.js';
export { jobFingerprint } from './fingerprint.js';
export { ensureInternalTopics, internalTopicSpecs, registerJob, type TopicSpec, type ClusterTopicOptions } from './internal-topics.js';
export { ProducerWatermarks } from './watermark-merger.js';
export { repartitionPartition, encodeMarker, decodeMarker, encodeRecord, decodeRecord, MARKER_HEADER, TASK_HEADER, type WatermarkMarker } from './repartition-codec.js';
export { RepartitionWriter, type RepartitionWriterOptions, type MarkerClaim } from './repartition-writer.js';
export { RepartitionDecoder, type RepartitionBatch, type RepartitionRecord } from './repartition-decoder.js';
export { ClusterMember, type MemberOptions, type Assignment } from './member.js';
export { ChangelogStorage, type ChangelogStep, type RestoreStats } from './changelog-storage.js';
export { ChangelogReader } from './changelog-reader.js';
export { splitByPartition, isKeyedSnapshot } from './task-state.js';
export { coPartitionAssignor, assignTasks, type ClaimingMember } from './co-partition-assignor.js';
export { encodeClaims, decodeClaims, type MemberClaims } from './member-claims.js';
export { standbyPartitions, type OwningMember } from './standby-placement.js';
export { TaskStateCache, type TaskCopy } from './task-state-cache.js';
export { StandbyReplicas, type StandbyOptions } from './standby-replicas.js';
export { clusterGraph, type ClusterGraph } from './cluster-graph.js';
export type { ClusterOptions } from './cluster-options.js';
export { RepartitionOperator, type RepartitionTarget } from './repartition-operator.js';
export { repartitionSource, type RepartitionOrigin } from './repartition-source.js';
export { clusterStatus, type ClusterStatus, type ClusterGroupState, type ClusterMemberStatus, type ClusterPartitionStatus, type ClusterTask, type ClusterTopicStatus } from './status.js';
export { internalTopicKind, internalTopicsOf, type InternalTopicKind, type OwnedTopic } from './cluster-topics.js';
export { TopicFetcher, type TopicRecord } from './topic-fetcher.js';
