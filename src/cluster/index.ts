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
 *   of the repartition topic (its task id and watermark). A consuming task's watermark,
 *   per partition, is the minimum over the producing tasks it has heard from that are not
 *   idle; over its partitions, the minimum again. A producer silent for the idle timeout
 *   stops holding it back.
 * - **Assignment** (to come): one consumer group per cluster, named after it, subscribed to
 *   the source topics and repartition topics; its assignor gives partition p of all
 *   co-partitioned topics of a sub-topology to one member (static membership, sticky).
 * - **Exactly-once** (to come): per task, one Kafka transaction per commit interval holds
 *   the output records, repartition records, changelog records and consumed offsets
 *   (Kafka Streams' exactly-once v2).
 *
 * What this slice does: the cut into sub-topologies and the internal-topic names; the
 * creation and checking of internal topics; the job fingerprint in `<cluster>-meta`; the
 * repartition exchange through Kafka (writer keyed by key group with watermark markers,
 * reader merging watermarks per partition with idleness). What it leaves: the member
 * process (`--cluster`), the group assignor, changelogged state and restore, standbys,
 * transactions, scaling, `sluice cluster status`.
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
