import { chainsDownstreamOf, type Chain } from '../plan/physical.js';
import type { PhysicalGraph } from '../plan/physical-graph.js';
import type { DeadLetterOutput } from './dead-letter-queue.js';
import type { Task } from './task.js';

/**
 * The chains that consume dead letters: those the dead-letter source feeds, directly or
 * through other steps (none when the job does not read its dead letters).
 */
export function deadLetterConsumers(physical: PhysicalGraph, deadLetters: DeadLetterOutput): Set<Chain> {
  const { graph, plan } = physical;
  const source = graph.nodes.find((step) => step.source === deadLetters.source);
  return source ? chainsDownstreamOf(graph, plan, source) : new Set();
}

/**
 * Resolves once every task here that could still send dead letters has handled all its
 * input. Not the tasks' ends: with checkpoints, a task ends only after the job's final
 * checkpoint, which waits for the dead-letter consumers, which wait for this.
 */
export function deadLetterSendersConsumed(physical: PhysicalGraph, tasks: readonly Task[], deadLetters: DeadLetterOutput): Promise<unknown> {
  const consumers = deadLetterConsumers(physical, deadLetters);
  return Promise.all(tasks.filter((task) => !consumers.has(task.node.chain)).map((task) => task.consumed));
}
