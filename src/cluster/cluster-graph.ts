import { randomUUID } from 'node:crypto';
import { loadKafkaClient } from '../connectors/kafka/client.js';
import { brokerList } from '../connectors/kafka/format.js';
import { SluiceError } from '../errors/index.js';
import { JobGraph, type StepNode, type StreamEdge } from '../plan/graph.js';
import type { Operator } from '../runtime/operator.js';
import { toMillis, type Duration } from '../time/duration.js';
import { jobFingerprint } from './fingerprint.js';
import { ensureInternalTopics, internalTopicSpecs, registerJob } from './internal-topics.js';
import { RepartitionOperator } from './repartition-operator.js';
import { repartitionSource } from './repartition-source.js';
import { cutSubTopologies, type ClusterTopology } from './topology.js';

/** How a process joins a cluster (`sluice run --cluster <name> --kafka <brokers>`, `job.start({ cluster })`). */
export interface ClusterOptions {
  /** The cluster's name: its consumer group and the prefix of its internal topics. */
  name: string;
  /** Bootstrap brokers, `'host:port'` (an array or a comma-separated string). */
  brokers: string | readonly string[];
  /** Partitions of the repartition and changelog topics (default: the most partitions of the job's Kafka source topics). */
  partitions?: number;
  /** Replication factor of the internal topics (default 1). */
  replicationFactor?: number;
  /** How long a producing task may stay silent before it stops holding watermarks back (default 10 s). */
  idleTimeout?: Duration;
  /** Group session timeout of the repartition readers (default 10 s). */
  sessionTimeout?: Duration;
}

/** A job's graph as one member of a cluster runs it. */
export interface ClusterGraph {
  readonly graph: JobGraph<Operator>;
  readonly topology: ClusterTopology;
  /** This member's id (producing tasks are named after it). */
  readonly member: string;
  /** Settles once the internal topics are made or checked and the job's fingerprint registered; rejects with the refusal. */
  readonly ready: Promise<{ partitions: number }>;
}

/** The partition count of the cluster: given, else the most partitions of the job's Kafka source topics. */
async function partitionCount(brokers: string[], graph: JobGraph<unknown>, given: number | undefined): Promise<number> {
  if (given !== undefined) return given;
  const topics = graph.nodes.flatMap((n) => (n.source?.kind === 'kafka' ? [(n.source as unknown as { topic: string }).topic] : []));
  if (topics.length === 0) return 1;
  const { Admin } = await loadKafkaClient();
  const admin = new Admin({ clientId: 'sluice-cluster-admin', bootstrapBrokers: brokers });
  try {
    const md = await admin.metadata({ topics });
    return Math.max(1, ...topics.map((t) => md.topics.get(t)?.partitionsCount ?? 1));
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
 * its subtasks by key group). Sources keep their own options (a Kafka source its
 * `groupId`, so the members share its partitions through that group). Every step keeps
 * its uid, so metrics, errors and state keep their names.
 */
export function clusterGraph(graph: JobGraph<Operator>, options: ClusterOptions, maxParallelism: number): ClusterGraph {
  const brokers = brokerList(options.brokers, 'cluster');
  if (options.partitions !== undefined && (!Number.isInteger(options.partitions) || options.partitions < 1 || options.partitions > maxParallelism)) {
    throw new SluiceError('INVALID_ARGUMENT', `cluster.partitions must be an integer from 1 to the job's max parallelism (${maxParallelism}), not ${String(options.partitions)}`);
  }
  const topology = cutSubTopologies(graph, options.name);
  const member = randomUUID().slice(0, 8);
  const replicationFactor = options.replicationFactor ?? 1;
  const idleTimeoutMs = options.idleTimeout === undefined ? 10_000 : toMillis(options.idleTimeout, 'cluster.idleTimeout');
  const sessionTimeoutMs = options.sessionTimeout === undefined ? 10_000 : toMillis(options.sessionTimeout, 'cluster.sessionTimeout');
  const ready = (async () => {
    const partitions = await partitionCount(brokers, graph, options.partitions);
    await ensureInternalTopics(brokers, internalTopicSpecs(topology, { partitions, replicationFactor }));
    await registerJob(brokers, topology.meta, jobFingerprint(graph, { maxParallelism, partitions }));
    return { partitions };
  })();
  ready.catch(() => {}); // awaited by every reader and writer, which report it

  const out = new JobGraph<Operator>();
  const copies = new Map<StepNode, StepNode<Operator>>();
  for (const node of graph.nodes) {
    const inputs: StreamEdge[] = node.inputs.map((edge) => {
      if (edge.partitioner !== 'hash') return { ...edge, from: copies.get(edge.from)! };
      const r = topology.repartitions.find((x) => x.edge === edge)!;
      const source = out.add({
        uid: `${r.to.uid}-repartition-in${edge.input === 0 ? '' : `-${edge.input}`}`,
        uidGiven: true,
        kind: 'source',
        stateful: false,
        inputs: [],
        description: `read ${r.topic}`,
        source: repartitionSource({ brokers, topic: r.topic, groupId: options.name, idleTimeoutMs, sessionTimeoutMs, ready }),
      });
      return { ...edge, from: source, tag: undefined };
    });
    copies.set(node, out.add({ ...node, inputs }));
  }
  for (const r of topology.repartitions) {
    const target = { brokers, topic: r.topic, maxParallelism, member, ready, heartbeatMs: idleTimeoutMs / 3 };
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
  return { graph: out, topology, member, ready };
}
