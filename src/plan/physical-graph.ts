import type { JobGraph, Partitioner, StepNode, StreamEdge } from './graph.js';
import type { Chain, PhysicalPlan } from './physical.js';

/**
 * The physical graph: the plan's chains expanded into their subtasks (the nodes) and the
 * channels between them (the edges), as Flink expands a JobGraph into an ExecutionGraph.
 * It says nothing of where a subtask runs: every thread of a run builds the same graph,
 * so a channel's id names it in all of them.
 */
export interface PhysicalGraph<Op = unknown> {
  readonly graph: JobGraph<Op>;
  readonly plan: PhysicalPlan<Op>;
  /** Chain by chain (in plan order), subtask by subtask. */
  readonly nodes: readonly SubtaskNode<Op>[];
  /** In the order every thread enumerates them (see {@link buildPhysicalGraph}). */
  readonly edges: readonly ChannelEdge[];
  /** Subtask `index` of `chain`. */
  subtaskOf(chain: Chain, index: number): SubtaskNode<Op>;
}

/** One subtask of a chain: what one task runs. */
export interface SubtaskNode<Op = unknown> {
  /** Position in {@link PhysicalGraph.nodes}. */
  readonly id: number;
  readonly chain: Chain<Op>;
  /** 0 … chain.parallelism - 1. */
  readonly index: number;
  /** The task's name (see {@link subtaskName}). */
  readonly name: string;
  /** Channels into the chain's head, in the order its task polls them. */
  readonly inputs: readonly ChannelEdge[];
  /** Channels out of any step of the chain, in id order. */
  readonly outputs: readonly ChannelEdge[];
  /** Where each step of the chain sends its records, aligned with `chain.nodes`: one route per edge out of the step. */
  readonly routes: readonly (readonly Route<Op>[])[];
}

/** A channel: what one subtask of a step sends along one logical edge to one subtask of the consuming chain's head. */
export interface ChannelEdge {
  /** Position in {@link PhysicalGraph.edges}. */
  readonly id: number;
  /** The logical edge whose records (a part of them) the channel carries. */
  readonly edge: StreamEdge;
  readonly from: { readonly node: StepNode; readonly subtask: number };
  readonly to: { readonly node: StepNode; readonly subtask: number };
}

/**
 * How one subtask of a step reaches one consumer: `chained`, the consumer is the next step
 * of the same subtask and is called directly; otherwise through `channels`, one per
 * consuming subtask (in subtask order), among which `partitioner` picks.
 */
export interface Route<Op = unknown> {
  readonly edge: StreamEdge;
  readonly to: StepNode<Op>;
  readonly chained: boolean;
  /** How the records are spread over `channels` (see `exchangeOf`). */
  readonly partitioner: Partitioner;
  readonly channels: readonly ChannelEdge[];
}

/** The name of a subtask: the step's uid, with `#index` when it runs in parallel. */
export function subtaskName(uid: string, index: number, parallelism: number): string {
  return parallelism === 1 ? uid : `${uid}#${index}`;
}

interface MutableSubtaskNode<Op> extends SubtaskNode<Op> {
  readonly inputs: ChannelEdge[];
  readonly outputs: ChannelEdge[];
  readonly routes: Route<Op>[][];
}

/**
 * Expands `plan` into subtasks and channels. Edges are numbered step by step (in graph
 * order), then by producing subtask, consuming edge and consuming subtask; a subtask's
 * inputs and outputs keep that order.
 */
export function buildPhysicalGraph<Op>(graph: JobGraph<Op>, plan: PhysicalPlan<Op>): PhysicalGraph<Op> {
  const nodes: MutableSubtaskNode<Op>[] = [];
  const byChain: MutableSubtaskNode<Op>[][] = [];
  for (const chain of plan.chains) {
    const subtasks: MutableSubtaskNode<Op>[] = [];
    for (let index = 0; index < chain.parallelism; index++) {
      const name = subtaskName(chain.nodes[0]!.uid, index, chain.parallelism);
      const node = { id: nodes.length, chain, index, name, inputs: [], outputs: [], routes: chain.nodes.map(() => []) };
      nodes.push(node);
      subtasks.push(node);
    }
    byChain[chain.id] = subtasks;
  }
  const subtaskOf = (chain: Chain, index: number) => byChain[chain.id]![index]!;

  const edges: ChannelEdge[] = [];
  for (const step of graph.nodes) {
    const chain = plan.chainOf(step);
    const position = chain.nodes.indexOf(step);
    for (let i = 0; i < plan.parallelismOf(step); i++) {
      const producer = subtaskOf(chain, i);
      for (const { edge, to } of graph.consumersOf(step)) {
        if (plan.isChained(to)) {
          producer.routes[position]!.push({ edge, to, chained: true, partitioner: 'forward', channels: [] });
          continue;
        }
        const partitioner = plan.exchange(edge, to);
        const consumers = partitioner === 'forward' ? [i] : Array.from({ length: plan.parallelismOf(to) }, (_, j) => j);
        const channels: ChannelEdge[] = [];
        for (const j of consumers) {
          const channel: ChannelEdge = { id: edges.length, edge, from: { node: step, subtask: i }, to: { node: to, subtask: j } };
          edges.push(channel);
          channels.push(channel);
          producer.outputs.push(channel);
          subtaskOf(plan.chainOf(to), j).inputs.push(channel);
        }
        producer.routes[position]!.push({ edge, to, chained: false, partitioner, channels });
      }
    }
  }
  return { graph, plan, nodes, edges, subtaskOf };
}
