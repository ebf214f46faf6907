import type { CheckpointCoordinator } from '../checkpoint/coordinator.js';
import type { CheckpointHandle } from '../checkpoint/types.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { LocalChannel } from './channel.js';
import type { Deployment } from './deployment.js';

/** How a run ended, when it did not fail: what `done` resolves with (a failure rejects `done` instead). */
export interface JobResult {
  /** `'finished'`: every bounded input ended and its results were written; `'cancelled'`: `cancel()` stopped it. */
  readonly status: 'finished' | 'cancelled';
}

/** One attempt at running a job, in this thread or with worker threads (the supervisor restarts failed ones). */
export interface Attempt {
  /** Settles when the attempt ends: resolves when it finished or was cancelled, rejects with its failure. */
  readonly done: Promise<JobResult>;
  /** Stops every task; pending event-time timers do not fire. */
  cancel(): void;
  /**
   * Stops every source of this thread that can end its input (`Source.stop`); returns
   * whether any could. Their tasks end once they have handed out what they accepted.
   */
  drain(): boolean;
  /**
   * Resolves once a checkpoint that covers everything the drained sources emitted is
   * durable and the sinks have been told to commit it (undefined without checkpoints, or
   * when the attempt ended first); rejects when none could be taken. With `savepointPath`
   * it is a savepoint there. See `CheckpointCoordinator.checkpointAfter`.
   */
  checkpointDrained(savepointPath?: string): Promise<CheckpointHandle | undefined>;
  /** Keyed state backends by step uid (the test harness reads them). */
  readonly stateBackends: ReadonlyMap<string, KeyedStateBackend>;
  /** Channels between tasks, for metrics and tests of backpressure. */
  readonly channels: readonly LocalChannel<unknown>[];
  /** The checkpoint coordinator, when the job checkpoints. */
  readonly coordinator?: CheckpointCoordinator | undefined;
}

/** How an attempt ends: its first failure, unless it was cancelled before. */
export class RunOutcome {
  private failure: unknown;
  private cancelled = false;

  /** The run has failed. */
  get failed(): boolean {
    return this.failure !== undefined;
  }
  /** The run has failed or been cancelled. */
  get ended(): boolean {
    return this.failure !== undefined || this.cancelled;
  }
  fail(error: unknown): void {
    if (!this.ended) this.failure = error;
  }
  /** Cancels the run unless it has failed; returns whether it did. */
  cancel(): boolean {
    if (this.failure !== undefined) return false;
    this.cancelled = true;
    return true;
  }
  /** The result once every task has settled: the failure thrown, or how it ended. */
  result(): JobResult {
    if (this.failure !== undefined) throw this.failure;
    return { status: this.cancelled ? 'cancelled' : 'finished' };
  }
}

/**
 * The handle of an attempt, in this thread or with worker threads: when every task has
 * `settled`, checkpoints stop, channels are released, `cleanup` runs (worker threads end)
 * and `done` settles with the outcome; `cancel` calls `stop` unless the run has failed.
 */
export function attemptOf(
  deployment: Deployment,
  coordinator: CheckpointCoordinator | undefined,
  outcome: RunOutcome,
  settled: Promise<unknown>,
  stop: () => void,
  cleanup?: () => Promise<void>,
): Attempt {
  const done = settled.then(async (): Promise<JobResult> => {
    coordinator?.stop();
    await coordinator?.tidied();
    for (const sender of deployment.senders) sender.release();
    await cleanup?.();
    if (outcome.failed) await releaseStateBackends(deployment.stateBackends.values());
    return outcome.result();
  });
  const drained = new Set<string>();
  return {
    done,
    cancel: () => {
      if (outcome.cancel()) stop();
    },
    drain: () => {
      for (const task of deployment.sourceTasks) if (task.stopSource()) drained.add(task.name);
      return drained.size > 0;
    },
    checkpointDrained: async (savepointPath) => (coordinator && !outcome.ended ? coordinator.checkpointAfter([...drained], savepointPath) : undefined),
    stateBackends: deployment.stateBackends,
    channels: deployment.localChannels,
    coordinator,
  };
}

/**
 * After a failed attempt, lets each backend drop its working files (`KeyedStateBackend.release`):
 * the next attempt restores from a checkpoint into backends of its own. A backend that
 * cannot is left as it is; the restart does not wait on it.
 */
export async function releaseStateBackends(backends: Iterable<KeyedStateBackend>): Promise<void> {
  await Promise.all([...backends].map((b) => b.release?.().catch(() => {})));
}
