import { SluiceError } from '../errors/index.js';
import { checkParallelism } from '../state/key-groups.js';
import type { JobGraph, Partitioner, StepNode, StreamEdge } from './graph.js';

/**
 * Steps that run together in one task, calling each other directly (operator chaining).
 * A chain runs as `parallelism` subtasks; subtask i of a chain feeds subtask i of a chain
 * it is forward-connected to.
 */
export interface Chain<Op = unknown> {
  readonly id: number;
  /** Head first, in topological order. */
  readonly nodes: StepNode<Op>[];
  /** Edges into the head from other chains. */
  readonly inputs: readonly StreamEdge[];
  readonly parallelism: number;
}

export interface PhysicalPlan<Op = unknown> {
  readonly chains: Chain<Op>[];
  chainOf(node: StepNode): Chain<Op>;
  parallelismOf(node: StepNode): number;
  /** Whether `node` is called directly by the step before it, in the same subtask. */
  isChained(node: StepNode): boolean;
  /** How an edge into `to` moves records at run time (see {@link exchangeOf}). */
  exchange(edge: StreamEdge, to: StepNode): Partitioner;
}

/**
 * Each step's parallelism: what the step asked for, else the job's default. A source or
 * sink that cannot run as several instances (it does not say `parallel: true`) runs as
 * one, and asking for more is an error; so does the dead-letter source.
 */
export function resolveParallelism(graph: JobGraph<unknown>, defaultParallelism: number, maxParallelism?: number): Map<StepNode, number> {
  checkParallelism(defaultParallelism, maxParallelism);
  const out = new Map<StepNode, number>();
  for (const node of graph.nodes) {
    const connector = node.source ?? node.sink;
    const single = connector !== undefined && connector.parallel !== true;
    const requested = node.parallelism;
    if (requested !== undefined) {
      checkParallelism(requested, maxParallelism);
      if (single && requested > 1) {
        throw new SluiceError('INVALID_JOB', `step '${node.uid}' (${connector.kind} ${node.source ? 'source' : 'sink'}) cannot run with parallelism ${requested}: it runs as one instance`, {
          step: node.uid,
          hint: 'Leave its parallelism unset; the steps after it can still run in parallel.',
        });
      }
      out.set(node, requested);
    } else out.set(node, single ? 1 : defaultParallelism);
  }
  return out;
}

/**
 * How an edge moves records between the subtasks of its two steps. A forward edge
 * between steps of different parallelism becomes a rebalance (as in Flink); a hash edge
 * between two single subtasks is a forward one.
 */
export function exchangeOf(edge: StreamEdge, fromParallelism: number, toParallelism: number): Partitioner {
  if (edge.partitioner === 'forward' && fromParallelism !== toParallelism) return 'rebalance';
  if (edge.partitioner !== 'forward' && fromParallelism === 1 && toParallelism === 1) return 'forward';
  return edge.partitioner;
}

/**
 * Groups the logical plan's steps into chains. A step chains onto its input when it has
 * one input, is not a source, and the edge is forward at run time (same parallelism).
 * Multi-input steps always head a task of their own.
 */
export function buildPhysicalPlan<Op>(graph: JobGraph<Op>, defaultParallelism = 1, maxParallelism?: number): PhysicalPlan<Op> {
  const parallelism = resolveParallelism(graph, defaultParallelism, maxParallelism);
  const parallelismOf = (node: StepNode) => parallelism.get(node)!;
  const exchange = (edge: StreamEdge, to: StepNode) => exchangeOf(edge, parallelismOf(edge.from), parallelismOf(to));
  const chained = (node: StepNode) => node.source === undefined && node.inputs.length === 1 && exchange(node.inputs[0]!, node) === 'forward';
  const chains: Chain<Op>[] = [];
  const byNode = new Map<StepNode, Chain<Op>>();
  for (const node of graph.nodes) {
    if (chained(node)) {
      const chain = byNode.get(node.inputs[0]!.from)!;
      chain.nodes.push(node);
      byNode.set(node, chain);
    } else {
      const chain: Chain<Op> = { id: chains.length, nodes: [node], inputs: node.inputs, parallelism: parallelismOf(node) };
      chains.push(chain);
      byNode.set(node, chain);
    }
  }
  return { chains, chainOf: (node) => byNode.get(node)!, parallelismOf, isChained: chained, exchange };
}

/** The chains that `step` feeds, directly or through other steps, its own included. */
export function chainsDownstreamOf<Op>(graph: JobGraph<Op>, plan: PhysicalPlan<Op>, step: StepNode): Set<Chain<Op>> {
  const downstream = new Set<Chain<Op>>();
  const stack: StepNode[] = [step];
  while (stack.length > 0) {
    const node = stack.pop()!;
    downstream.add(plan.chainOf(node));
    for (const { to } of graph.consumersOf(node)) stack.push(to);
  }
  return downstream;
}
