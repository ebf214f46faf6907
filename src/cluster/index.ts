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
 *   of the repartition topic (its task id and watermark); it announces itself with one
 *   when it opens and repeats its marker every third of the idle timeout. A consuming
 *   task's watermark, per partition, is the minimum over the producing tasks it has heard
 *   from that are not idle; over its partitions, the minimum again. A producer is idle when
 *   it says so (its input is idle) or when it has not been heard from for the idle timeout
 *   (a member that died); the announcement and the heartbeat make sure a live producer is
 *   never taken for a gone one while its watermark stands still.
 * - **A member** (`cluster-graph.ts`): `sluice run job.ts --cluster <name> --kafka <brokers>`
 *   or `job.start({ cluster })` runs the job's graph with each keyed exchange cut into a
 *   `RepartitionOperator` (`<uid>-repartition-out`) and a repartition source
 *   (`<uid>-repartition-in`) read by the consumer group `<name>`; the rest of the graph runs
 *   on the usual runtime (operators, chains, windows, timers, sinks). A Kafka source keeps
 *   its own options: its `groupId` is the group through which members share its partitions.
 * - **Assignment** (to come): one consumer group per cluster, named after it, subscribed to
 *   the source topics and repartition topics; its assignor gives partition p of all
 *   co-partitioned topics of a sub-topology to one member (static membership, sticky).
 * - **Exactly-once** (to come): per task, one Kafka transaction per commit interval holds
 *   the output records, repartition records, changelog records and consumed offsets
 *   (Kafka Streams' exactly-once v2).
 *
 * What this slice does: the cut into sub-topologies and the internal-topic names; the
 * creation and checking of internal topics (`CLUSTER_TOPIC_MISMATCH`); the job fingerprint
 * in `<cluster>-meta` (`CLUSTER_JOB_MISMATCH`); the repartition exchange through Kafka
 * (writer by key group with watermark markers, reader merging them with idleness); members
 * that run a keyed event-time job across processes, at-least-once (each member checkpoints
 * locally every second, and consumed offsets are committed when a checkpoint completes,
 * i.e. once the records they produced are acknowledged by the broker).
 *
 * What it leaves (known limits, in the order we expect to build them):
 * - keyed state and timers are not changelogged yet: the `-changelog` topics are created
 *   but not written, so a repartition partition that moves to another member (a member
 *   joins, leaves or dies) loses the window contents of its keys, and the results of those
 *   windows are wrong. Members must all be up before records flow.
 * - the source side uses the Kafka source's own group (one more group per source, round
 *   robin, not co-partitioned with the repartition topics); a rebalance while records flow
 *   duplicates what was read since the last checkpoint (at-least-once), and a group
 *   reported stable may briefly have a member still fetching with its previous
 *   assignment (see `test/cluster/members.test.ts`).
 * - a step with two keyed inputs (a keyed connect or join) reads two repartition topics
 *   whose partitions the default assignor does not keep together: not yet correct.
 * - one thread per member (`--parallelism` above 1 runs the member's graph on local
 *   subtasks, but worker threads are off); no transactions, no standbys, no static
 *   membership, no `sluice cluster status`; records cross as JSON (no bigint keys).
 *
 * @module
 */
export { cutSubTopologies, type ClusterTopology, type SubTopology, type RepartitionEdge, repartitionTopicName, changelogTopicName, metaTopicName } from './topology.js';
export { jobFingerprint } from './fingerprint.js';
export { ensureInternalTopics, internalTopicSpecs, registerJob, type TopicSpec, type ClusterTopicOptions } from './internal-topics.js';
export { ProducerWatermarks } from './watermark-merger.js';
export { repartitionPartition, encodeMarker, decodeMarker, MARKER_HEADER, TASK_HEADER, TS_HEADER, type WatermarkMarker } from './repartition-codec.js';
export { RepartitionWriter, type RepartitionWriterOptions } from './repartition-writer.js';
export { RepartitionReader, type RepartitionReaderOptions, type RepartitionBatch, type RepartitionRecord } from './repartition-reader.js';
export { clusterGraph, type ClusterOptions, type ClusterGraph } from './cluster-graph.js';
export { RepartitionOperator, type RepartitionTarget } from './repartition-operator.js';
export { repartitionSource, type RepartitionOrigin } from './repartition-source.js';
