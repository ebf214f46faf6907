import { SluiceError } from '../errors/index.js';
import type { JobGraph, StepNode, StreamEdge } from '../plan/graph.js';

/** A keyed exchange that crosses processes: the records of `edge` into `to` go through `topic`. */
export interface RepartitionEdge {
  readonly edge: StreamEdge;
  readonly to: StepNode;
  /** `<cluster>-<uid>-repartition` (see {@link repartitionTopicName}). */
  readonly topic: string;
  /** The sub-topology that writes the topic. */
  readonly from: number;
  /** The sub-topology that reads it. */
  readonly into: number;
}

/** A piece of the plan between keyed exchanges: what a task runs for one partition. */
export interface SubTopology {
  readonly id: number;
  /** Its steps, in graph (topological) order. */
  readonly steps: readonly StepNode[];
  /** The repartition topics it reads (co-partitioned: a task reads partition p of each). */
  readonly inputs: readonly RepartitionEdge[];
  /** The repartition topics it writes. */
  readonly outputs: readonly RepartitionEdge[];
  /** Its source steps (a sub-topology has sources or inputs, or both). */
  readonly sources: readonly StepNode[];
}

/** The plan of a job cut for cluster mode. */
export interface ClusterTopology {
  readonly cluster: string;
  readonly subTopologies: readonly SubTopology[];
  readonly repartitions: readonly RepartitionEdge[];
  /** Changelog topic per stateful step uid. */
  readonly changelogs: ReadonlyMap<string, string>;
  readonly meta: string;
}

const NAME = /^[A-Za-z0-9._-]+$/;

function checkName(what: string, name: string): void {
  if (!NAME.test(name) || name.length > 200) {
    throw new SluiceError('INVALID_ARGUMENT', `cluster mode: ${what} ${JSON.stringify(name)} cannot be part of a Kafka topic name`, {
      hint: 'Use letters, digits, dots, underscores and hyphens only (at most 200 characters).',
    });
  }
}

/** The repartition topic of a keyed exchange into step `uid` (its input `input`). */
export function repartitionTopicName(cluster: string, uid: string, input = 0): string {
  return input === 0 ? `${cluster}-${uid}-repartition` : `${cluster}-${uid}-${input}-repartition`;
}

/** The compacted changelog topic of stateful step `uid`. */
export function changelogTopicName(cluster: string, uid: string): string {
  return `${cluster}-${uid}-changelog`;
}

/** The compacted topic where a cluster keeps its job's fingerprint. */
export function metaTopicName(cluster: string): string {
  return `${cluster}-meta`;
}

/**
 * Cuts the plan at its keyed (`hash`) exchanges: steps joined by other edges form one
 * sub-topology (union-find over the edges), each hash edge becomes a repartition topic
 * from the producer's sub-topology into the consumer's. Broadcast edges are refused:
 * a broadcast inside one member would reach only that member's tasks.
 */
export function cutSubTopologies(graph: JobGraph<unknown>, cluster: string): ClusterTopology {
  checkName('the cluster name', cluster);
  const parent = graph.nodes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (const to of graph.nodes) {
    checkName('the step uid', to.uid);
    for (const edge of to.inputs) {
      if (edge.partitioner === 'broadcast') {
        throw new SluiceError('INVALID_JOB', `cluster mode: step '${to.uid}' reads a broadcast stream, which cluster mode cannot run yet`, {
          step: to.uid,
          hint: 'Run the job without --cluster, or replace the broadcast by a keyed connect.',
        });
      }
      if (edge.partitioner !== 'hash') parent[find(edge.from.id)] = find(to.id);
    }
  }
  const roots = [...new Set(graph.nodes.map((n) => find(n.id)))];
  const idOf = (node: StepNode) => roots.indexOf(find(node.id));
  const repartitions: RepartitionEdge[] = [];
  for (const to of graph.nodes) {
    for (const edge of to.inputs) {
      if (edge.partitioner !== 'hash') continue;
      repartitions.push({ edge, to, topic: repartitionTopicName(cluster, to.uid, edge.input), from: idOf(edge.from), into: idOf(to) });
    }
  }
  const subTopologies: SubTopology[] = roots.map((_, id) => {
    const steps = graph.nodes.filter((n) => idOf(n) === id);
    return {
      id,
      steps,
      inputs: repartitions.filter((r) => r.into === id),
      outputs: repartitions.filter((r) => r.from === id),
      sources: steps.filter((n) => n.source !== undefined),
    };
  });
  const changelogs = new Map<string, string>();
  for (const n of graph.nodes) if (n.stateful && n.source === undefined && n.sink === undefined) changelogs.set(n.uid, changelogTopicName(cluster, n.uid));
  return { cluster, subTopologies, repartitions, changelogs, meta: metaTopicName(cluster) };
}
