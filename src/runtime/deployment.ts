import type { CheckpointData } from '../checkpoint/types.js';
import type { JobMetrics } from '../observe/job-metrics.js';
import type { StepMetrics } from '../observe/step-metrics.js';
import type { PhysicalGraph } from '../plan/physical-graph.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { ChannelSender, LocalChannel } from './channel.js';
import type { RuntimeConfig } from './config.js';
import { deadLetterConsumers } from './dead-letter-senders.js';
import type { DeadLetterOutput } from './dead-letter-queue.js';
import type { Operator } from './operator.js';
import { openChannels, type Placement } from './placement.js';
import { SourceTask } from './source-task.js';
import { StreamTask } from './stream-task.js';
import type { Backpressure, Task, TaskCheckpointing, TaskSpec } from './task.js';
import { WORDS_PER_TASK } from './watchdog/step-stamps.js';

/** How a thread deploys its share of a job. */
export interface DeployOptions {
  readonly placement: Placement;
  /** State to start from (a checkpoint or savepoint). */
  readonly restore: CheckpointData | undefined;
  readonly deadLetters: DeadLetterOutput | undefined;
  readonly checkpointing: TaskCheckpointing | undefined;
  /** Told of the first failure of any task here. */
  readonly onFailure: (error: unknown) => void;
  /** The attempt's stamp words, shared with the watchdog (`watchdog/`); without it, each thread stamps a private array. */
  readonly stamps?: Int32Array | undefined;
  /** Tasks (by name) found stuck in the previous attempt: they hand their chains one record at a time (`Task.diagnosing`). */
  readonly diagnose?: ReadonlySet<string> | undefined;
}

/** The tasks of one thread, built from the physical graph, not yet running. */
export interface Deployment {
  readonly physical: PhysicalGraph<Operator>;
  readonly tasks: readonly Task[];
  readonly sourceTasks: readonly SourceTask<unknown>[];
  readonly stateBackends: Map<string, KeyedStateBackend>;
  readonly localChannels: readonly LocalChannel<unknown>[];
  /** Every sending end made here (a local channel is one), released when the tasks end. */
  readonly senders: readonly ChannelSender<unknown>[];
  /** Stops everything deployed here (source readers watch its signal). */
  readonly abort: AbortController;
}

/**
 * Builds the tasks the placement puts in this thread, one per local subtask of the
 * physical graph, each complete with its chain, after opening the channels that have an
 * end here.
 */
export function deploy(physical: PhysicalGraph<Operator>, config: RuntimeConfig, options: DeployOptions): Deployment {
  const { placement, deadLetters } = options;
  const stepMetrics = config.metrics && countersOf(physical, config.metrics, placement);
  const channels = openChannels(physical, config, placement);
  const abort = new AbortController();
  const stateBackends = new Map<string, KeyedStateBackend>();
  const backpressure: Backpressure[] = deadLetters ? [deadLetters] : [];
  // Tasks that consume dead letters make room in the queue: they must not wait for room in
  // it, or they and a task that fills it would wait for each other (see errors.test.ts).
  const consumers = deadLetters ? deadLetterConsumers(physical, deadLetters) : new Set();
  const tasks: Task[] = [];
  const sourceTasks: SourceTask<unknown>[] = [];
  const stamps = options.stamps ?? new Int32Array(physical.nodes.length * WORDS_PER_TASK);
  for (const node of physical.nodes) {
    if (!placement.isLocal(node.index)) continue;
    const spec: TaskSpec = {
      node,
      config,
      senders: channels.senders,
      stepMetrics: stepMetrics?.[node.id],
      restored: options.restore?.steps ?? {},
      deadLetters,
      stateBackends,
      checkpointing: options.checkpointing,
      backpressure: consumers.has(node.chain) ? [] : backpressure,
      yieldIntervalMs: placement.yieldIntervalMs,
      onFailure: options.onFailure,
      stamps,
      diagnose: options.diagnose?.has(node.name),
    };
    if (node.chain.nodes[0]!.source) {
      const task = new SourceTask<unknown>({ ...spec, signal: abort.signal });
      sourceTasks.push(task);
      tasks.push(task);
    } else tasks.push(new StreamTask({ ...spec, receivers: channels.receivers }));
  }
  const senders = channels.senders.filter((sender) => sender !== undefined);
  return { physical, tasks, sourceTasks, stateBackends, localChannels: channels.local, senders, abort };
}

/**
 * The counters of every local step instance, by subtask node (head first). Made step by
 * step in graph order, which is the order metrics list them in.
 */
function countersOf(physical: PhysicalGraph, metrics: JobMetrics, placement: Placement): StepMetrics[][] {
  const counters: StepMetrics[][] = physical.nodes.map(() => []);
  for (const step of physical.graph.nodes) {
    const chain = physical.plan.chainOf(step);
    const position = chain.nodes.indexOf(step);
    for (let index = 0; index < chain.parallelism; index++) {
      if (!placement.isLocal(index)) continue;
      counters[physical.subtaskOf(chain, index).id]![position] = metrics.step(step.uid, step.source ? 'source' : step.kind, chain.nodes[0]!.uid, index);
    }
  }
  return counters;
}
