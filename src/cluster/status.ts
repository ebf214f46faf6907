import type { Admin, Consumer, Group } from '@platformatic/kafka';
import { checkKafkaAccess, closeQuietly, kafkaClientOptions, loadKafkaClient } from '../connectors/kafka/client.js';
import type { KafkaConnectionOptions } from '../connectors/kafka/connection.js';
import { brokerList } from '../connectors/kafka/format.js';
import { SluiceError } from '../errors/index.js';
import { internalTopicsOf, type InternalTopicKind } from './cluster-topics.js';
import { MEMBER_PROTOCOL } from './co-partition-assignor.js';
import { committedOffsetsOf, endOffsets, partitionKey, partitionLag, READ_COMMITTED, TIMESTAMP_LATEST } from './partition-offsets.js';
import { metaTopicName } from './topology.js';

/**
 * The state of a cluster's consumer group, as the group coordinator reports it.
 * `Dead`: the group does not exist (no member ever joined, or its offsets expired).
 */
export type ClusterGroupState = 'Stable' | 'PreparingRebalance' | 'CompletingRebalance' | 'Empty' | 'Dead' | 'Unknown';

/** One input partition a member owns: partition `partition` of `topic`, the input of one task. */
export interface ClusterTask {
  readonly topic: string;
  readonly partition: number;
}

/** A member of a cluster's group, as the group coordinator sees it. */
export interface ClusterMemberStatus {
  /** The member id the coordinator gave it (`<client id>-<uuid>`). */
  readonly memberId: string;
  /** Its `group.instance.id`: the `--member NAME` it runs with (static membership); undefined without one. */
  readonly instanceId: string | undefined;
  readonly clientId: string;
  /** The address its connection comes from, as the broker sees it. */
  readonly host: string;
  /**
   * The partitions the group assigned it, by topic then partition: its tasks (partition p
   * of every topic is one member's, so its tasks are the partitions p it owns). Empty
   * while the group rebalances (the coordinator reports assignments of a stable group only).
   */
  readonly tasks: readonly ClusterTask[];
  /** The sum of the lag of its partitions that have a committed offset. */
  readonly lag: number;
}

/** One partition the cluster's group reads: who owns it and how far behind it is. */
export interface ClusterPartitionStatus {
  readonly topic: string;
  readonly partition: number;
  /** `repartition`: one of the cluster's repartition topics; `source`: a topic the job reads. */
  readonly role: 'source' | 'repartition';
  /** The instance id of the member that owns it, else its member id; undefined when no member does (the group is empty or rebalancing). */
  readonly member: string | undefined;
  /** The group's committed offset (the next offset to read); undefined when none was committed. */
  readonly committed: number | undefined;
  /** The partition's last stable offset (read_committed): the end, before any open transaction. */
  readonly end: number;
  /** `end - committed` (at least 0); undefined without a committed offset. Approximate: see {@link clusterStatus}. */
  readonly lag: number | undefined;
}

/** An internal topic of the cluster. */
export interface ClusterTopicStatus {
  readonly name: string;
  readonly kind: InternalTopicKind;
  readonly partitions: number;
  /** True when the name could also be another cluster's topic and only the rule's last step decided (see `internalTopicsOf` in `cluster/cluster-topics.ts`). */
  readonly ambiguous: boolean;
}

/** What {@link clusterStatus} found about a cluster. */
export interface ClusterStatus {
  readonly cluster: string;
  readonly brokers: readonly string[];
  /** The state of the cluster's consumer group (named after the cluster). */
  readonly state: ClusterGroupState;
  /** The job's graph fingerprint: the first `job` record of `<cluster>-meta`; undefined when none is there. */
  readonly job: string | undefined;
  readonly members: readonly ClusterMemberStatus[];
  /** Every partition of the topics the group is assigned, subscribes to or has committed offsets for, and of the cluster's repartition topics. */
  readonly partitions: readonly ClusterPartitionStatus[];
  /** The cluster's internal topics: meta, then repartition, then changelog topics. */
  readonly topics: readonly ClusterTopicStatus[];
  /** The sum of the lag of the partitions that have a committed offset. */
  readonly lag: number;
}

/** Control batches (transaction markers) carry no records. */
const CONTROL = 0x20;

const STATES: readonly ClusterGroupState[] = ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'];

/** The client reports states in capitals, with or without underscores (`PREPARINGREBALANCE`); Kafka's names are in camel case. */
function groupState(raw: string): ClusterGroupState {
  const plain = raw.replace(/_/g, '').toLowerCase();
  return STATES.find((s) => s.toLowerCase() === plain) ?? 'Unknown';
}

/** The messages of a client error and of the errors it gathers (the client's MultipleErrors). */
function clientError(e: unknown): string {
  const err = e as { message?: string; errors?: unknown[] };
  const inner = [...new Set((err.errors ?? []).map(clientError))];
  return [err.message ?? String(e), ...inner].map((m) => m.replace(/\.$/, '')).join(': ');
}

/** Runs one request of the status, turning a client failure into BROKER_UNAVAILABLE (the brokers were unreachable or failed it). */
async function ask<T>(what: string, brokers: readonly string[], request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    throw new SluiceError('BROKER_UNAVAILABLE', `cluster status: ${what} on the Kafka brokers ${brokers.join(',')} failed`, {
      detail: clientError(e),
      hint: 'Check that the brokers given (--kafka host:port[,host:port…]) run and are reachable from this machine; the detail holds the Kafka client’s error.',
      cause: e,
    });
  }
}

/** The first `job` record of the meta topic, read by offset (no group joined: status changes nothing), read_committed. */
async function registeredJob(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, admin: Admin, meta: string): Promise<string | undefined> {
  const [start, end] = await Promise.all(
    [-2n, TIMESTAMP_LATEST].map(async (timestamp) => {
      const listed = await admin.listOffsets({ topics: [{ name: meta, partitions: [{ partitionIndex: 0, timestamp }] }], isolationLevel: READ_COMMITTED });
      return listed[0]?.partitions[0]?.offset ?? 0n;
    }),
  );
  let offset = start!;
  while (offset < end!) {
    const t = (await consumer.metadata({ topics: [meta] })).topics.get(meta)!;
    const response = await consumer.fetch({
      node: t.partitions[0]!.leader,
      topics: [{ topicId: t.id, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
      isolationLevel: READ_COMMITTED,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
    });
    const p = response.responses[0]?.partitions[0];
    let next = offset;
    for (const batch of p?.errorCode === 0 ? (p.records ?? []) : []) {
      const after = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if (after > next) next = after;
      if ((batch.attributes & CONTROL) !== 0) continue;
      for (const r of batch.records) {
        if (batch.firstOffset + BigInt(r.offsetDelta) >= offset && r.key?.toString() === 'job' && r.value) return r.value.toString();
      }
    }
    if (next === offset) return undefined; // nothing readable below the end (aborted records only)
    offset = next;
  }
  return undefined;
}

/** The clusters whose group reads each topic: subscribed to, assigned, or with committed offsets. */
function readersOf(groups: ReadonlyMap<string, Group>, committed: ReadonlyArray<{ groupId: string; topics: ReadonlyArray<{ name: string }> }>): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  const add = (topic: string, cluster: string) => {
    const list = readers.get(topic) ?? [];
    if (!list.includes(cluster)) list.push(cluster);
    readers.set(topic, list);
  };
  for (const [id, group] of groups) {
    for (const m of group.members.values()) {
      for (const t of m.metadata?.topics ?? []) add(t, id);
      for (const t of m.assignments?.keys() ?? []) add(t, id);
    }
  }
  for (const g of committed) for (const t of g.topics) add(t.name, g.groupId);
  return readers;
}

/**
 * The status of a cluster, read from Kafka alone (its members are not asked): the state
 * of its consumer group, its members and the partitions each owns (its tasks), the
 * committed offset, end offset and lag of every partition the group reads, and the
 * cluster's internal topics with their partition counts. It only reads: it joins no group
 * and commits nothing, so asking never rebalances the cluster.
 *
 * Lag is `end - committed`, where `end` is the partition's last stable offset (ListOffsets
 * with read_committed), so records of transactions still open are not counted. What
 * stays approximate:
 * - offsets count transaction markers and the records of aborted transactions, which no
 *   consumer ever gets: on a topic written in transactions (the repartition topics, whose
 *   members commit a transaction per checkpoint; a source topic written by a transactional
 *   producer) the lag is too high by up to one per transaction while records flow; a
 *   member commits its position past the markers after the last record it read, so a
 *   partition read to its end comes to 0 after its member's next checkpoint;
 * - members commit their offsets at checkpoints, so records read since the last one count
 *   as lag;
 * - the group, its offsets and the end offsets are asked one after another, not at one
 *   instant.
 *
 * Which topics are the cluster's internal topics is decided by name, with other clusters'
 * groups as evidence where names of two clusters collide (`a` and `a-b`): the rule is
 * `internalTopicsOf` in `cluster/cluster-topics.ts`.
 *
 * Fails with `CLUSTER_NOT_FOUND` when the brokers have neither the topic `<cluster>-meta`
 * nor a group `<cluster>` of Sluice members, and with `BROKER_UNAVAILABLE` when the brokers
 * cannot be reached or fail a request.
 *
 * @param brokers Bootstrap brokers, `'host:port'` (an array or a comma-separated string).
 * @param cluster The cluster's name (the `--cluster` its members run with).
 * @param access TLS and SASL to the brokers, as a Kafka source's `tls` and `sasl` (default: plaintext, no authentication).
 *
 * @example
 * const status = await clusterStatus('127.0.0.1:9092', 'clicks-prod');
 * console.log(`${status.cluster}: ${status.state}, ${status.members.length} members, lag ${status.lag}`);
 * for (const m of status.members) console.log(m.instanceId ?? m.memberId, m.tasks.map((t) => `${t.topic}/${t.partition}`).join(' '));
 */
export async function clusterStatus(brokers: string | readonly string[], cluster: string, access: Pick<KafkaConnectionOptions, 'tls' | 'sasl'> = {}): Promise<ClusterStatus> {
  const list = brokerList(brokers, 'cluster status');
  const kafka = await loadKafkaClient();
  const connection = await kafkaClientOptions({ brokers: list, ...access }, 'cluster status');
  await checkKafkaAccess(kafka, connection, 'cluster status');
  // Few, quick retries: a status is asked by a person or a probe that wants an answer soon.
  const client = { ...connection, retries: 1, retryDelay: 250, connectTimeout: 5000 };
  const admin = new kafka.Admin({ clientId: 'sluice-cluster-status', ...client });
  let consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  try {
    const topicNames = await ask('listing topics', list, () => admin.listTopics());
    const existing = new Set(topicNames);
    const meta = metaTopicName(cluster);
    // Clusters whose names could collide with this one's: their groups are evidence of whose a topic is.
    const related = topicNames
      .filter((t) => t.endsWith('-meta'))
      .map((t) => t.slice(0, -'-meta'.length))
      .filter((c) => c !== cluster && (c.startsWith(`${cluster}-`) || cluster.startsWith(`${c}-`)));
    const groupIds = [cluster, ...related];
    const [groups, offsets] = await Promise.all([
      ask('describing the consumer groups', list, () => admin.describeGroups({ groups: groupIds })),
      ask('listing the committed offsets', list, () => admin.listConsumerGroupOffsets({ groups: groupIds })),
    ]);
    const group = groups.get(cluster);
    if (!existing.has(meta) && group?.protocol !== MEMBER_PROTOCOL) {
      // The names closest to the one asked for first (the longest common beginning): the list is cut at 20.
      const common = (name: string) => [...name].findIndex((c, i) => c !== cluster[i]) >>> 0;
      const known = topicNames
        .filter((t) => t.endsWith('-meta'))
        .map((t) => t.slice(0, -'-meta'.length))
        .sort((a, b) => Math.min(common(b), b.length) - Math.min(common(a), a.length) || a.localeCompare(b));
      throw new SluiceError('CLUSTER_NOT_FOUND', `no cluster '${cluster}' on the Kafka brokers ${list.join(',')}: no topic ${meta} and no consumer group '${cluster}' of Sluice members`, {
        detail: known.length === 0 ? 'the brokers have no cluster (no topic named <cluster>-meta)' : `clusters there (topics <cluster>-meta): ${known.slice(0, 20).join(', ')}${known.length > 20 ? `, … (${known.length})` : ''}`,
      });
    }

    const readers = readersOf(groups, offsets);
    const owned = internalTopicsOf(cluster, topicNames, (t) => readers.get(t) ?? []);
    const repartitions = new Set(owned.filter((t) => t.kind === 'repartition').map((t) => t.name));
    const committed = committedOffsetsOf(offsets, cluster);
    const read = [...readers].filter(([, clusters]) => clusters.includes(cluster)).map(([topic]) => topic);
    const partitionTopics = [...new Set([...read, ...repartitions])].filter((t) => existing.has(t)).sort();
    const described = [...new Set([...owned.map((t) => t.name), ...partitionTopics])];
    const metadata = described.length === 0 ? undefined : await ask('reading topic metadata', list, () => admin.metadata({ topics: described }));
    const partitionCount = (topic: string) => metadata?.topics.get(topic)?.partitionsCount ?? 0;

    const everyPartition = partitionTopics.map((name) => [name, Array.from({ length: partitionCount(name) }, (_, p) => p)] as const);
    const ends = await ask('listing end offsets', list, () => endOffsets(admin, everyPartition));

    const owners = new Map<string, string>();
    const members = [...(group?.members.values() ?? [])].map((m) => {
      const tasks = [...(m.assignments?.values() ?? [])]
        .flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })))
        .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      for (const t of tasks) owners.set(partitionKey(t.topic, t.partition), m.groupInstanceId ?? m.id);
      return { memberId: m.id, instanceId: m.groupInstanceId ?? undefined, clientId: m.clientId, host: m.clientHost.replace(/^\//, ''), tasks };
    });
    const partitions: ClusterPartitionStatus[] = partitionTopics.flatMap((topic) =>
      Array.from({ length: partitionCount(topic) }, (_, partition) => {
        const key = partitionKey(topic, partition);
        const end = ends.get(key) ?? 0;
        const at = committed.get(key);
        return { topic, partition, role: repartitions.has(topic) ? 'repartition' : 'source', member: owners.get(key), committed: at, end, lag: partitionLag(end, at) } as const;
      }),
    );
    const lagOf = (ps: readonly ClusterPartitionStatus[]) => ps.reduce((sum, p) => sum + (p.lag ?? 0), 0);

    let job: string | undefined;
    if (existing.has(meta)) {
      // Its group is never joined: the consumer only fetches by offset.
      consumer = new kafka.Consumer({ clientId: 'sluice-cluster-status', groupId: 'sluice-cluster-status', ...client });
      const reader = consumer;
      job = await ask(`reading ${meta}`, list, () => registeredJob(reader, admin, meta));
    }
    return {
      cluster,
      brokers: list,
      state: groupState(group?.state ?? 'DEAD'),
      job,
      members: members
        .map((m) => ({ ...m, lag: lagOf(partitions.filter((p) => p.member === (m.instanceId ?? m.memberId))) }))
        .sort((a, b) => ((a.instanceId ?? a.memberId) < (b.instanceId ?? b.memberId) ? -1 : 1)),
      partitions,
      topics: owned.map((t) => ({ name: t.name, kind: t.kind, partitions: partitionCount(t.name), ambiguous: t.ambiguous })),
      lag: lagOf(partitions),
    };
  } finally {
    if (consumer) await closeQuietly(consumer);
    await admin.close().catch(() => {}); // not closeQuietly: Admin.close takes a callback, not `force`
  }
}
