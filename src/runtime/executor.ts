import type { CheckpointConfig } from '../checkpoint/config.js';
import { CheckpointCoordinator, type CheckpointParticipants, type CheckpointStats } from '../checkpoint/coordinator.js';
import type { CheckpointData, CheckpointStorage } from '../checkpoint/types.js';
import type { JobGraph } from '../plan/graph.js';
import { buildPhysicalGraph, type PhysicalGraph } from '../plan/physical-graph.js';
import { buildPhysicalPlan } from '../plan/physical.js';
import { attemptOf, RunOutcome, type Attempt } from './attempt.js';
import type { RuntimeConfig } from './config.js';
import { deadLetterSendersConsumed } from './dead-letter-senders.js';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import { deploy } from './deployment.js';
import type { Operator } from './operator.js';
import { LOCAL_PLACEMENT } from './placement.js';
import type { TaskCheckpointing } from './task.js';
import { stuckError, watchSteps } from './watchdog/watchdog.js';
import type { StuckStep } from '../observe/job-monitor.js';

/** How an attempt starts and checkpoints. */
export interface ExecuteOptions {
  /** State to start from (a checkpoint or savepoint). */
  readonly restore?: CheckpointData | undefined;
  /** Periodic checkpoints. */
  readonly checkpoints?: { readonly config: CheckpointConfig; readonly storage: CheckpointStorage; onEvent?: (s: CheckpointStats) => void } | undefined;
  /** Told of each step the watchdog finds stuck (before the attempt fails with `STEP_STUCK`). */
  readonly onStuck?: ((stuck: StuckStep) => void) | undefined;
  /** Tasks (by name) the previous attempt was stuck in: they hand their chains one record at a time until a checkpoint completes. */
  readonly diagnose?: ReadonlySet<string> | undefined;
}

/**
 * Runs one attempt of a job in this thread: every subtask of every chain is a task here,
 * every channel a local queue. With worker threads, `parallel/` deploys the same physical
 * graph across threads instead.
 */
export function execute(graph: JobGraph<Operator>, config: RuntimeConfig, deadLetters?: DeadLetterQueue, options: ExecuteOptions = {}): Attempt {
  config.metrics?.beginAttempt();
  const physical = physicalGraphOf(graph, config);
  const outcome = new RunOutcome();
  const coordinator = checkpointCoordinator(config, options, {
    taskCount: physical.nodes.length,
    injectBarrier: (id) => {
      for (const task of deployment.sourceTasks) task.injectBarrier(id);
    },
    notifyComplete: (id) => {
      for (const task of deployment.tasks) task.notifyCheckpointComplete(id);
    },
  });
  const onFailure = (error: unknown) => {
    outcome.fail(error);
    deployment.abort.abort();
    coordinator?.stop();
    for (const task of deployment.tasks) task.stop();
  };
  // Every task runs on this thread: the watchdog's report comes once the stuck call has
  // returned (nothing here ran meanwhile), and the attempt fails then.
  let running = true;
  const watch = watchSteps(physical, config, () => 0, (stuck) => {
    if (!running) return;
    options.onStuck?.(stuck);
    onFailure(stuckError(stuck));
  });
  const deployment = deploy(physical, config, {
    placement: LOCAL_PLACEMENT,
    restore: options.restore,
    deadLetters,
    checkpointing: coordinator && reportingTo(coordinator),
    onFailure,
    stamps: watch?.words,
    diagnose: options.diagnose,
  });

  watch?.start();
  const runs = deployment.tasks.map((task) => task.run());
  coordinator?.start();
  // The dead-letter source ends once every task that could still send to it has finished.
  if (deadLetters) void deadLetterSendersConsumed(physical, deployment.tasks, deadLetters).then(() => deadLetters.end());
  const settled = Promise.allSettled(runs).finally(() => {
    running = false;
    watch?.stop();
  });

  return attemptOf(deployment, coordinator, outcome, settled, () => {
    deployment.abort.abort();
    for (const task of deployment.tasks) task.stop();
  });
}

/** The plan's chains expanded into subtasks and channels, at the job's parallelism. */
export function physicalGraphOf(graph: JobGraph<Operator>, config: RuntimeConfig): PhysicalGraph<Operator> {
  return buildPhysicalGraph(graph, buildPhysicalPlan(graph, config.parallelism, config.maxParallelism));
}

/** The checkpoint coordinator of an attempt, when the job checkpoints. */
export function checkpointCoordinator(config: RuntimeConfig, options: ExecuteOptions, participants: CheckpointParticipants): CheckpointCoordinator | undefined {
  if (!options.checkpoints) return undefined;
  const { config: checkpointConfig, storage, onEvent } = options.checkpoints;
  return new CheckpointCoordinator(config.jobName, checkpointConfig, storage, config.clock, participants, options.restore?.checkpointId ?? 0, onEvent);
}

/** How tasks of this thread acknowledge to the coordinator directly (tasks of worker threads acknowledge through messages). */
export function reportingTo(coordinator: CheckpointCoordinator): TaskCheckpointing {
  return {
    acknowledge: (id, task, steps, alignmentMs) => coordinator.acknowledge(id, task, steps, alignmentMs),
    finished: (task, steps) => coordinator.taskFinished(task, steps),
  };
}
