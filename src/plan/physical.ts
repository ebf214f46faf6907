import type { JobGraph, StepNode, StreamEdge } from './graph.js';

/** Steps that run together in one task, calling each other directly (operator chaining). */
export interface Chain {
  readonly id: number;
  /** Head first, in topological order. */
  readonly nodes: StepNode[];
  /** Edges into the head from other chains. */
  readonly inputs: readonly StreamEdge[];
}

export interface PhysicalPlan {
  readonly chains: Chain[];
  chainOf(node: StepNode): Chain;
}

/**
 * Whether `node` runs in the same task as its input: one input, a forward edge (or a
 * keyed one where both sides run as a single subtask, which makes it forward too), and
 * the same parallelism. Multi-input steps always head a task of their own.
 */
export function canChain(node: StepNode): boolean {
  if (node.source !== undefined || node.inputs.length !== 1) return false;
  const edge = node.inputs[0]!;
  if (edge.from.parallelism !== node.parallelism) return false;
  if (edge.partitioner === 'forward') return true;
  return edge.partitioner === 'hash' && node.parallelism === 1;
}

/** Groups the logical plan's steps into chains. */
export function buildPhysicalPlan(graph: JobGraph): PhysicalPlan {
  const chains: Chain[] = [];
  const byNode = new Map<StepNode, Chain>();
  for (const node of graph.nodes) {
    if (canChain(node)) {
      const chain = byNode.get(node.inputs[0]!.from)!;
      chain.nodes.push(node);
      byNode.set(node, chain);
    } else {
      const chain: Chain = { id: chains.length, nodes: [node], inputs: node.inputs };
      chains.push(chain);
      byNode.set(node, chain);
    }
  }
  return { chains, chainOf: (node) => byNode.get(node)! };
}
