import type { JobMetrics } from '../observe/job-metrics.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { Clock } from '../time/clock.js';
import type { WatchdogConfig } from './watchdog/watchdog.js';

/** The settings a job runs with (see `JobOptions` for their meaning and defaults). */
export interface RuntimeConfig {
  readonly jobName: string;
  /**
   * Names this execution of the job: one `start()`, the same across its restarts (worker
   * threads get the main thread's), new with every start (`SinkContext.executionId`).
   */
  readonly executionId: string;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly channelCapacity: number;
  readonly maxPollWaitMs: number;
  readonly maxParallelism: number;
  /** Subtasks per step where the step does not say (see `resolveParallelism`). */
  readonly parallelism: number;
  readonly onError: 'fail' | 'dead-letter';
  readonly clock: Clock;
  readonly createStateBackend: (uid: string) => KeyedStateBackend;
  /** The directory of a subtask's incremental checkpoint files (`OperatorRuntime.sharedStateDir`), when the checkpoint storage has one. */
  readonly sharedStateDir?: ((subtask: string) => string) | undefined;
  /** Exactly-once with checkpoints: transactional sinks publish only on commit. */
  readonly exactlyOnce: boolean;
  /** Counters to add to (undefined: the job counts nothing, `metrics: false`). */
  readonly metrics?: JobMetrics | undefined;
  /**
   * For runs with parallelism above 1: the script worker threads start with, and the
   * module (with its arguments) that builds the job in each (see `parallel/`).
   */
  readonly workers?: { readonly script: URL; readonly module: string; readonly args: readonly string[] } | undefined;
  /** Watches for steps that do not return (`watchdog/`); undefined: no watchdog (`stuckAfter: false`). */
  readonly watchdog?: WatchdogConfig | undefined;
}
