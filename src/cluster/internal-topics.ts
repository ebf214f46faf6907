import { randomUUID } from 'node:crypto';
import type { Admin, ClusterTopicMetadata, Message } from '@platformatic/kafka';
import { closeQuietly, loadKafkaClient, type KafkaClientConnection } from '../connectors/kafka/client.js';
import { kafkaErrorIds } from '../connectors/kafka/transactions.js';
import { SluiceError } from '../errors/index.js';
import type { ClusterTopology } from './topology.js';

/** An internal topic as the job needs it. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** `cleanup.policy=compact` (changelogs, meta) rather than `delete` (repartition topics). */
  readonly compacted: boolean;
}

/** How a cluster lays out its internal topics. */
export interface ClusterTopicOptions {
  /** Partitions of every repartition and changelog topic: the number of tasks of a keyed sub-topology. */
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** The internal topics a cluster's topology needs: repartition and changelog topics with `partitions` partitions, the meta topic with one. */
export function internalTopicSpecs(topology: ClusterTopology, options: ClusterTopicOptions): TopicSpec[] {
  const { partitions, replicationFactor } = options;
  return [
    { name: topology.meta, partitions: 1, replicationFactor, compacted: true },
    ...topology.repartitions.map((r) => ({ name: r.topic, partitions, replicationFactor, compacted: false })),
    ...[...topology.changelogs.values()].map((name) => ({ name, partitions, replicationFactor, compacted: true })),
  ];
}

const TOPIC_RESOURCE = 2; // ConfigResourceTypes.TOPIC

/**
 * What an existing topic has, to compare with its spec. A topic another member has just
 * created may not be in every broker's metadata yet: asked again until it is (up to 10 s).
 */
async function describeTopic(admin: Admin, name: string): Promise<{ partitions: number; replicationFactor: number; compacted: boolean }> {
  const deadline = Date.now() + 10_000;
  let topic: ClusterTopicMetadata | undefined;
  for (;;) {
    try {
      topic = (await admin.metadata({ topics: [name], forceUpdate: true })).topics.get(name);
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if ((topic?.partitionsCount ?? 0) > 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (topic === undefined) throw new SluiceError('CLUSTER_TOPIC_MISMATCH', `cluster mode: the internal topic '${name}' was created but is not in the broker's metadata after 10 s`);
  const [config] = await admin.describeConfigs({ resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configurationKeys: ['cleanup.policy'] }] });
  const policy = config?.configs.find((c) => c.name === 'cleanup.policy')?.value ?? 'delete';
  return { partitions: topic.partitionsCount, replicationFactor: topic.partitions[0]?.replicas.length ?? 0, compacted: policy.split(',').includes('compact') };
}

function mismatch(spec: TopicSpec, found: { partitions: number; replicationFactor: number; compacted: boolean }): string | undefined {
  const diffs: string[] = [];
  if (found.partitions !== spec.partitions) diffs.push(`${found.partitions} partitions where the job needs ${spec.partitions}`);
  if (found.replicationFactor !== spec.replicationFactor) diffs.push(`replication factor ${found.replicationFactor} where the job needs ${spec.replicationFactor}`);
  if (found.compacted !== spec.compacted) diffs.push(`cleanup.policy ${found.compacted ? 'compact' : 'delete'} where the job needs ${spec.compacted ? 'compact' : 'delete'}`);
  return diffs.length === 0 ? undefined : diffs.join(', ');
}

/** What no retry changes: the request itself is refused. */
const CREATE_REFUSALS = new Set(['INVALID_REPLICATION_FACTOR', 'INVALID_PARTITIONS', 'INVALID_CONFIG', 'POLICY_VIOLATION', 'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'INVALID_TOPIC_EXCEPTION']);

/**
 * Creates one topic; false when another member created it meanwhile (members start together).
 * The broker says so with TOPIC_ALREADY_EXISTS, sometimes before its topic list shows the
 * topic; any other refusal (a controller moving, a request timing out) is tried again for
 * up to 15 s, looking each time whether the topic has appeared.
 */
async function createTopic(admin: Admin, spec: TopicSpec): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: spec.replicationFactor,
        configs: [{ name: 'cleanup.policy', value: spec.compacted ? 'compact' : 'delete' }],
      });
      return true;
    } catch (e) {
      if (kafkaErrorIds(e).includes('TOPIC_ALREADY_EXISTS')) return false;
      if ((await admin.listTopics()).includes(spec.name)) return false;
      if (Date.now() > deadline || kafkaErrorIds(e).some((id) => CREATE_REFUSALS.has(id))) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Creates the internal topics that do not exist and checks the ones that do: a topic with
 * another partition count, replication factor or cleanup policy is refused with
 * `CLUSTER_TOPIC_MISMATCH` (keys and state would land in the wrong partitions). Members
 * starting together race to create a topic; the losers find it and check it.
 */
export async function ensureInternalTopics(connection: KafkaClientConnection, specs: readonly TopicSpec[]): Promise<void> {
  const { Admin } = await loadKafkaClient();
  const admin = new Admin({ clientId: 'sluice-cluster-admin', ...connection });
  try {
    const existing = new Set(await admin.listTopics());
    for (const spec of specs) {
      if (!existing.has(spec.name)) {
        if (await createTopic(admin, spec)) continue;
      }
      const wrong = mismatch(spec, await describeTopic(admin, spec.name));
      if (wrong !== undefined) {
        throw new SluiceError('CLUSTER_TOPIC_MISMATCH', `cluster mode: the internal topic '${spec.name}' exists with ${wrong}`, {
          detail: `expected ${JSON.stringify(spec)}`,
        });
      }
    }
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The values of the `job` records of the meta topic, oldest first. */
async function readJobRecords(connection: KafkaClientConnection, meta: string): Promise<string[]> {
  const { Consumer } = await loadKafkaClient();
  const groupId = `${meta}-reader-${randomUUID()}`;
  const consumer = new Consumer({ clientId: 'sluice-cluster-meta', ...connection, groupId, autocommit: false, maxWaitTime: 100 });
  try {
    const end = Number((await consumer.listOffsets({ topics: [meta] })).get(meta)?.[0] ?? 0n);
    if (end === 0) return [];
    const values: string[] = [];
    const stream = await consumer.consume({ topics: [meta], mode: 'earliest' });
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
        if (m.key?.toString() === 'job' && m.value) values.push(m.value.toString());
        if (Number(m.offset) >= end - 1) resolve();
      });
      stream.on('error', reject);
    });
    await stream.close();
    return values;
  } finally {
    await closeQuietly(consumer);
    const { Admin } = await loadKafkaClient();
    const admin = new Admin({ clientId: 'sluice-cluster-admin', ...connection });
    try {
      await admin.deleteGroups({ groups: [groupId] });
    } catch {
      // best effort: an empty reader group expires on its own
    }
    await admin.close().catch(() => {});
  }
}

/**
 * Registers the job's fingerprint in the cluster's meta topic, or checks it: the first
 * `job` record of the topic is the cluster's job, and a member whose fingerprint differs is
 * refused with `CLUSTER_JOB_MISMATCH`. Two first members of different jobs racing both
 * write; the earlier offset wins and the other is refused when it reads back (and writes
 * the winner's fingerprint again, as the compacted topic keeps the last record per key).
 */
export async function registerJob(connection: KafkaClientConnection, meta: string, fingerprint: string): Promise<void> {
  let records = await readJobRecords(connection, meta);
  if (records.length === 0) {
    await writeJobRecord(connection, meta, fingerprint);
    records = await readJobRecords(connection, meta);
  }
  const first = records[0];
  if (first !== fingerprint) {
    // The topic is compacted (it keeps the last record per key): write the cluster's job
    // again, so that our losing record never becomes the one compaction keeps.
    if (records.at(-1) !== first && first !== undefined) await writeJobRecord(connection, meta, first);
    throw new SluiceError('CLUSTER_JOB_MISMATCH', `cluster mode: the cluster '${meta.replace(/-meta$/, '')}' runs another job (graph fingerprint ${first?.slice(0, 12)}…, this job's is ${fingerprint.slice(0, 12)}…)`, {
      detail: `first job record of ${meta}: ${first}`,
    });
  }
}

async function writeJobRecord(connection: KafkaClientConnection, meta: string, fingerprint: string): Promise<void> {
  const { Producer } = await loadKafkaClient();
  const producer = new Producer({ clientId: 'sluice-cluster-meta', ...connection, idempotent: true });
  try {
    await producer.send({ messages: [{ topic: meta, partition: 0, key: Buffer.from('job'), value: Buffer.from(fingerprint) }] });
  } finally {
    await producer.close().catch(() => {});
  }
}
