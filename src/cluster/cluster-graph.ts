import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkKafkaAccess, kafkaClientOptions, loadKafkaClient, type KafkaClientConnection } from '../connectors/kafka/client.js';
import { brokerList } from '../connectors/kafka/format.js';
import type { KafkaSink } from '../connectors/kafka/sink.js';
import type { KafkaSource } from '../connectors/kafka/source.js';
import { SluiceError } from '../errors/index.js';
import { JobGraph, type StepNode, type StreamEdge } from '../plan/graph.js';
import type { Operator } from '../runtime/operator.js';
import { SinkOperator } from '../runtime/operators/sink.js';
import type { Clock } from '../time/clock.js';
import { toMillis } from '../time/duration.js';
import { ChangelogStorage, type ChangelogStep } from './changelog-storage.js';
import type { ClusterOptions } from './cluster-options.js';
import { jobFingerprint } from './fingerprint.js';
import { ensureInternalTopics, internalTopicSpecs, registerJob } from './internal-topics.js';
import { MemberFigures } from './member-figures.js';
import { memberKafkaSink } from './member-kafka-sink.js';
import { memberKafkaSource } from './member-kafka-source.js';
import { ClusterMember } from './member.js';
import { RepartitionOperator } from './repartition-operator.js';
import { repartitionSource } from './repartition-source.js';
import { StandbyReplicas } from './standby-replicas.js';
import { TaskStateCache } from './task-state-cache.js';
import { cutSubTopologies, type ClusterTopology, type RepartitionEdge } from './topology.js';

/** How a process joins a cluster (`sluice run --cluster <name> --kafka <brokers>`, `job.start({ cluster })`). */
/** The uid of the source that reads a repartition topic: `<step>-repartition-in`, `-<input>` for a second input. */
function repartitionInUid(r: RepartitionEdge): string {
  return `${r.to.uid}-repartition-in${r.edge.input === 0 ? '' : `-${r.edge.input}`}`;
}

/** A job's graph as one member of a cluster runs it. */
export interface ClusterGraph {
  readonly graph: JobGraph<Operator>;
  readonly topology: ClusterTopology;
  /** This member, once the internal topics are ready and it joined the group; rejects with the refusal. */
  readonly member: Promise<ClusterMember>;
  /** Settles once the internal topics are made or checked and the job's fingerprint registered; rejects with the refusal. */
  readonly ready: Promise<{ partitions: number }>;
  /** The member's checkpoints: its tasks' state in the changelog topics, committed with its output. */
  readonly storage: ChangelogStorage;
  /** The member's tasks, rebalances, restores and lag, for its metrics and REST API. */
  readonly figures: MemberFigures;
  /** Leaves the group, stops the standby replicas, closes the storage: the job has ended. */
  close(): Promise<void>;
}

/** The Kafka topic a source step reads, if it is a Kafka source. */
function kafkaTopicOf(node: StepNode): string | undefined {
  return node.source?.kind === 'kafka' ? (node.source as KafkaSource<unknown>).topic : undefined;
}

/** The partition counts and topic ids of `topics`. */
async function describeTopics(connection: KafkaClientConnection, topics: readonly string[]): Promise<Map<string, { partitions: number; id: string }>> {
  if (topics.length === 0) return new Map();
  const { Admin } = await loadKafkaClient();
  const admin = new Admin({ clientId: 'sluice-cluster-admin', ...connection });
  try {
    const md = await admin.metadata({ topics: [...topics] });
    return new Map(topics.map((t) => [t, { partitions: md.topics.get(t)?.partitionsCount ?? 1, id: md.topics.get(t)?.id ?? '' }]));
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * The graph one member runs: the job's graph with every keyed exchange cut in two. The
 * producing side ends in a `RepartitionOperator` (step `<uid>-repartition-out`) that writes
 * the exchange's repartition topic; the consuming side starts at a repartition source
 * (step `<uid>-repartition-in`) over the partitions the cluster's group gives this member,
 * followed by the original keyed edge (which, inside the member, still spreads keys over
 * its subtasks by key group). Kafka sources read their topic's partitions through the
 * cluster's group too, and Kafka sinks write in the member's transactions. Every step
 * keeps its uid, so metrics, errors and state keep their names.
 */
export function clusterGraph(graph: JobGraph<Operator>, options: ClusterOptions, maxParallelism: number, clock: Clock, exactlyOnce = true): ClusterGraph {
  const brokers = brokerList(options.brokers, 'cluster');
  if (options.partitions !== undefined && (!Number.isInteger(options.partitions) || options.partitions < 1 || options.partitions > maxParallelism)) {
    throw new SluiceError('INVALID_ARGUMENT', `cluster.partitions must be an integer from 1 to the job's max parallelism (${maxParallelism}), not ${String(options.partitions)}`);
  }
  if (options.member !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(options.member)) {
    throw new SluiceError('INVALID_ARGUMENT', `cluster.member must be letters, digits, dots, underscores and hyphens (at most 100), not ${JSON.stringify(options.member)}`);
  }
  const topology = cutSubTopologies(graph, options.name);
  const replicationFactor = options.replicationFactor ?? 1;
  const idleTimeoutMs = options.idleTimeout === undefined ? 10_000 : toMillis(options.idleTimeout, 'cluster.idleTimeout');
  const sessionTimeoutMs = options.sessionTimeout === undefined ? 10_000 : toMillis(options.sessionTimeout, 'cluster.sessionTimeout');
  const transactionTimeoutMs = options.transactionTimeout === undefined ? 10_000 : toMillis(options.transactionTimeout, 'cluster.transactionTimeout');
  const standbys = options.standbys ?? 0;
  if (!Number.isInteger(standbys) || standbys < 0) throw new SluiceError('INVALID_ARGUMENT', `cluster.standbys must be a whole number of replicas (0 or more), not ${String(options.standbys)}`);
  const changelogTopics = [...topology.changelogs.values()];
  let standby: StandbyReplicas | undefined;
  let taskCopies: TaskStateCache | undefined;
  const sourceTopics = [...new Set(graph.nodes.flatMap((n) => kafkaTopicOf(n) ?? []))];
  // TLS and SASL: the cluster's own, else those of the job's Kafka sources (the same job file runs unchanged).
  const sourceOptions = graph.nodes.flatMap((n) => (n.source?.kind === 'kafka' ? [(n.source as KafkaSource<unknown>).options] : []));
  const tls = options.tls ?? sourceOptions.find((o) => o.tls !== undefined)?.tls;
  const sasl = options.sasl ?? sourceOptions.find((o) => o.sasl !== undefined)?.sasl;
  const where = `cluster '${options.name}'`;
  const connection = (async () => {
    const kafka = await loadKafkaClient();
    const conn = await kafkaClientOptions({ brokers, ...(tls === undefined ? {} : { tls }), ...(sasl === undefined ? {} : { sasl }) }, where);
    await checkKafkaAccess(kafka, conn, where); // a bad certificate or password: a clear error now, not retries
    return conn;
  })();
  connection.catch(() => {}); // awaited by `ready`, which reports it
  const ready = (async () => {
    const conn = await connection;
    const counts = new Map([...(await describeTopics(conn, sourceTopics))].map(([t, d]) => [t, d.partitions]));
    // The cluster's partition count: given, else the most partitions of the job's Kafka source topics.
    const partitions = options.partitions ?? Math.max(1, ...counts.values());
    for (const r of topology.repartitions) counts.set(r.topic, partitions);
    await ensureInternalTopics(conn, internalTopicSpecs(topology, { partitions, replicationFactor }));
    await registerJob(conn, topology.meta, jobFingerprint(graph, { maxParallelism, partitions }));
    return { partitions, counts };
  })();
  ready.catch(() => {}); // awaited by every reader and writer, which report it
  const member = ready.then(async () => {
    const conn = await connection;
    const m = new ClusterMember({
      connection: conn,
      cluster: options.name,
      instanceId: options.member,
      topics: [...new Set([...sourceTopics, ...topology.repartitions.map((r) => r.topic)])],
      sessionTimeoutMs,
      transactionTimeoutMs,
      commitTimeoutMs: Math.max(transactionTimeoutMs / 2, 10_000),
      clock,
      exactlyOnce,
    });
    // Copies of task state a previous run under this name left (their topics' ids must match).
    const copies = (taskCopies = new TaskStateCache(join(options.stateDir ?? join(tmpdir(), 'sluice-cluster'), options.name, m.name)));
    await copies.load(new Map([...(await describeTopics(conn, changelogTopics))].map(([t, d]) => [t, d.id])));
    m.claim(copies.partitions());
    await m.start();
    standby = new StandbyReplicas(m, copies, { cluster: options.name, connection: conn, changelogs: changelogTopics, replicas: standbys, intervalMs: 500 });
    standby.start();
    return m;
  });
  member.catch(() => {});
  const steps: ChangelogStep[] = [...topology.changelogs].map(([uid, changelog]) => {
    const sub = topology.subTopologies.find((t) => t.steps.some((n) => n.uid === uid));
    return { uid, changelog, tasksOf: sub?.inputs[0]?.topic ?? '', inputs: (sub?.inputs ?? []).map(repartitionInUid) };
  });
  const partitions = ready.then((r) => r.partitions);
  partitions.catch(() => {});
  const storage = new ChangelogStorage(options.name, connection, member, steps, partitions, () => taskCopies);

  const out = new JobGraph<Operator>();
  const copies = new Map<StepNode, StepNode<Operator>>();
  for (const node of graph.nodes) {
    const inputs: StreamEdge[] = node.inputs.map((edge) => {
      if (edge.partitioner !== 'hash') return { ...edge, from: copies.get(edge.from)! };
      const r = topology.repartitions.find((x) => x.edge === edge)!;
      const source = out.add({
        uid: repartitionInUid(r),
        uidGiven: true,
        kind: 'source',
        stateful: false,
        inputs: [],
        description: `read ${r.topic}`,
        source: repartitionSource({ topic: r.topic, member, idleTimeoutMs }),
      });
      return { ...edge, from: source, tag: undefined };
    });
    const source = node.source?.kind === 'kafka' ? memberKafkaSource(node.source as KafkaSource<unknown>, member) : node.source;
    const sink = node.sink?.kind === 'kafka' ? memberKafkaSink(node.sink as KafkaSink<unknown>, member) : node.sink;
    copies.set(node, out.add({ ...node, inputs, ...(source ? { source, parallelism: 1 } : {}), ...(sink && sink !== node.sink ? { sink, createOperator: () => new SinkOperator(sink) } : {}) }));
  }
  for (const r of topology.repartitions) {
    // What the producing sub-topology reads: its markers speak for those partitions.
    const from = topology.subTopologies[r.from]!;
    const inputTopics = [...from.sources.flatMap((n) => kafkaTopicOf(n) ?? []), ...from.inputs.map((i) => i.topic)];
    const inputs = ready.then(({ counts }) => Object.fromEntries(inputTopics.map((t) => [t, counts.get(t)!])));
    inputs.catch(() => {});
    const target = { topic: r.topic, maxParallelism, member, ready, inputs, heartbeatMs: idleTimeoutMs / 3 };
    const keySelector = r.edge.keySelector!;
    out.add({
      uid: `${r.to.uid}-repartition-out${r.edge.input === 0 ? '' : `-${r.edge.input}`}`,
      uidGiven: true,
      kind: 'repartition',
      stateful: false,
      inputs: [{ from: copies.get(r.edge.from)!, tag: r.edge.tag, partitioner: 'forward', input: 0 }],
      description: `write ${r.topic} by key group`,
      parallelism: r.edge.from.parallelism,
      createOperator: () => new RepartitionOperator(target, keySelector),
    });
  }
  const figures = new MemberFigures(options.name, connection, member, storage, new Set(topology.repartitions.map((r) => r.topic)), clock, () => standby?.followed ?? []);
  const close = async () => {
    await standby?.close();
    await member.then((m) => m.close()).catch(() => {});
    await storage.close();
    // A member without a stable name is never started again: its copies would only be litter.
    if (options.member === undefined) await taskCopies?.destroy();
    else await taskCopies?.flush();
  };
  return { graph: out, topology, member, ready, storage, figures, close };
}
