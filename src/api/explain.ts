import type { JobGraph, StepNode } from '../plan/graph.js';
import { buildPhysicalPlan } from '../plan/physical.js';

/**
 * The plan as text: one block per task (a chain of steps that call each other directly),
 * with where each task's input comes from.
 *
 * @example
 * Job 'clicks': 2 tasks (batches of 1024, flush 10ms, channel capacity 8 batches)
 * task 1
 *   clicks          source       generator: … (unbounded)
 *   watermarks-1    watermarks   bounded out-of-orderness 2000ms
 * task 2  <- hash from 'watermarks-1'
 *   per-page        process      keyed process function  [stateful]
 *   sink-1          sink         console
 */
export function explainJob(
  name: string,
  graph: JobGraph,
  settings: { batchSize: number; flushIntervalMs: number; channelCapacity: number; parallelism?: number; maxParallelism?: number },
): string {
  const plan = buildPhysicalPlan(graph, settings.parallelism ?? 1, settings.maxParallelism);
  const width = Math.max(...graph.nodes.map((n) => n.uid.length)) + 2;
  const lines = [
    `Job '${name}': ${plan.chains.length} task${plan.chains.length === 1 ? '' : 's'} ` +
      `(batches of ${settings.batchSize}, flush ${settings.flushIntervalMs}ms, channel capacity ${settings.channelCapacity} batches)`,
  ];
  for (const chain of plan.chains) {
    const head = chain.nodes[0]!;
    const from = chain.inputs.map((e) => `${plan.exchange(e, head)} from '${e.from.uid}'${e.tag ? ` [side '${e.tag}']` : ''}`);
    const parallel = chain.parallelism > 1 ? ` x${chain.parallelism}` : '';
    lines.push(`task ${chain.id + 1}${parallel}${from.length ? `  <- ${from.join(', ')}` : ''}`);
    for (const node of chain.nodes) lines.push(`  ${describe(node, width)}`);
  }
  return lines.join('\n');
}

function describe(node: StepNode, width: number): string {
  const side = node.inputs.length === 1 && node.inputs[0]!.tag ? ` (side output '${node.inputs[0]!.tag}')` : '';
  const keyed = node.inputs.some((e) => e.partitioner === 'hash') ? ' keyed' : '';
  const flags = node.stateful ? '  [stateful]' : '';
  return `${node.uid.padEnd(width)}${node.kind.padEnd(11)} ${node.description}${side}${keyed && !node.description.includes('keyed') ? keyed : ''}${flags}`.trimEnd();
}
