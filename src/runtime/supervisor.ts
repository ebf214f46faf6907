import type { CheckpointConfig } from '../checkpoint/config.js';
import type { CheckpointStats } from '../checkpoint/coordinator.js';
import type { CheckpointData, CheckpointHandle, CheckpointStorage } from '../checkpoint/types.js';
import { SluiceError } from '../errors/index.js';
import type { JobGraph } from '../plan/graph.js';
import type { Operator } from './operator.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { LocalChannel } from './channel.js';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import type { Attempt, JobResult } from './attempt.js';
import type { RuntimeConfig } from './config.js';
import { execute } from './executor.js';
import type { RestartDecider } from './restart-policy.js';
import type { StuckStep } from '../observe/job-monitor.js';
import { executeParallel, slotsOf } from './parallel/parallel-run.js';

/** A job while it runs, across restarts. */
export interface RunningJob {
  /** Settles when the job ends: resolves when it finished or was cancelled, rejects with its failure. */
  readonly done: Promise<JobResult>;
  /** Stops the job; pending event-time timers do not fire. Checkpoints are kept, so the next run resumes. */
  cancel(): void;
  /** Takes a savepoint (needs checkpoints on). */
  savepoint(path: string): Promise<CheckpointHandle>;
  /** Takes a savepoint, then stops the job. */
  stopWithSavepoint(path: string): Promise<CheckpointHandle>;
  /** Keyed state backends of the current attempt, by step uid. */
  readonly stateBackends: ReadonlyMap<string, KeyedStateBackend>;
  /** Channels of the current attempt. */
  readonly channels: readonly LocalChannel<unknown>[];
  /** Checkpoints of this run, oldest first. */
  readonly checkpoints: readonly CheckpointStats[];
  /** Restarts so far. */
  readonly restarts: number;
  /** The checkpoint or savepoint this run started from, if any. */
  readonly restoredFrom: number | undefined;
  /** Steps of the current attempt that the watchdog found stuck (empty again when the next attempt starts). */
  readonly stuck: readonly StuckStep[];
}

export interface SuperviseOptions {
  readonly checkpoints?: { readonly config: CheckpointConfig; readonly storage: CheckpointStorage } | undefined;
  readonly restart: RestartDecider;
  /** Reads the savepoint to start from; without it, the job starts from its latest checkpoint (if any). */
  readonly restore?: (() => Promise<CheckpointData>) | undefined;
  /** Called when an attempt fails and another starts. */
  readonly onRestart?: (error: unknown, restart: number, delayMs: number) => void;
  /** Told of every checkpoint and savepoint that completes or fails (logs). */
  readonly onCheckpoint?: (stats: CheckpointStats) => void;
  /**
   * Chooses and verifies the checkpoint an attempt resumes from, and tidies the storage
   * when the job finishes (`checkpoint/recovery.ts`). Without it: the latest listed.
   */
  readonly recovery?: { latest(): Promise<CheckpointData | undefined>; finished(): Promise<void> } | undefined;
  /** Told of each step the watchdog finds stuck (logs, health); the attempt then fails with `STEP_STUCK`. */
  readonly onStuck?: (stuck: StuckStep) => void;
}

/**
 * Runs a job and keeps it running: a failed attempt is restarted from the latest
 * completed checkpoint under the restart policy; the job fails with a clear error when
 * the policy gives up. A job that finishes discards its checkpoints (there is nothing to
 * resume); one that is cancelled keeps them, so that the next run resumes.
 */
export function supervise(graph: JobGraph<Operator>, config: RuntimeConfig, deadLetters: DeadLetterQueue | undefined, options: SuperviseOptions): RunningJob {
  const history: CheckpointStats[] = [];
  let current: Attempt | undefined;
  let cancelled = false;
  let restarts = 0;
  let restoredFrom: number | undefined;
  let stuck: StuckStep[] = [];
  const storage = options.checkpoints?.storage;

  const startAttempt = (restore: CheckpointData | undefined): Attempt => {
    deadLetters?.reset();
    restoredFrom ??= restore?.checkpointId;
    const run = slotsOf(graph, config) > 1 ? executeParallel : execute;
    const found: StuckStep[] = (stuck = []);
    current = run(graph, config, deadLetters, {
      restore,
      onStuck: (s) => {
        found.push(s);
        options.onStuck?.(s);
      },
      checkpoints: options.checkpoints ? { ...options.checkpoints, onEvent: (s) => {
        history.push(s);
        options.onCheckpoint?.(s);
      } } : undefined,
    });
    // A cancel that came while the attempt was being prepared (reading the latest checkpoint) holds.
    if (cancelled) current.cancel();
    return current;
  };

  const latest = async (): Promise<CheckpointData | undefined> => {
    if (options.recovery) return options.recovery.latest();
    if (!storage) return undefined;
    const handle = (await storage.list()).find((h) => h.kind === 'checkpoint');
    return handle ? storage.read(handle) : undefined;
  };

  let savepoint: CheckpointData | undefined;
  // Where a restarted attempt starts: the latest checkpoint, else the savepoint it began with.
  const restorePoint = async (): Promise<CheckpointData | undefined> => (await latest()) ?? savepoint;
  const fromSavepoint = async (): Promise<Attempt> => {
    savepoint = await options.restore!();
    return startAttempt(savepoint);
  };

  const run = async (first: Attempt | Promise<Attempt>): Promise<JobResult> => {
    let attempt = await first;
    for (;;) {
      try {
        const result = await attempt.done;
        if (result.status === 'finished' && options.recovery) await options.recovery.finished();
        else if (result.status === 'finished' && storage) {
          for (const h of await storage.list()) if (h.kind === 'checkpoint') await storage.discard(h);
          await storage.pruneShared?.(Number.MAX_SAFE_INTEGER); // the incremental checkpoint files they listed
        }
        return result;
      } catch (error) {
        if (cancelled) return { status: 'cancelled' };
        const delay = options.restart.delayFor(restarts + 1);
        if (delay === undefined) throw restarts === 0 ? error : exhausted(config.jobName, restarts, error);
        restarts++;
        options.onRestart?.(error, restarts, delay);
        await config.clock.sleep(delay);
        if (cancelled) return { status: 'cancelled' };
        attempt = startAttempt(await restorePoint());
      }
    }
  };

  // A savepoint given beats older checkpoints at the start. Without checkpoint storage
  // there is nothing to read first: the attempt starts at once, so that the handle's
  // channels and state exist as soon as start() returns (the test harness relies on it).
  const done = run(options.restore ? fromSavepoint() : storage ? restorePoint().then(startAttempt) : startAttempt(undefined));

  const requireCoordinator = () => {
    const c = current?.coordinator;
    if (!c) throw new SluiceError('INVALID_JOB', `job '${config.jobName}' takes savepoints only with checkpoints on`, {
      hint: "Set `checkpoints: { interval: '10s' }` in the job options.",
    });
    return c;
  };

  return {
    done,
    cancel() {
      cancelled = true;
      current?.cancel();
    },
    savepoint: async (path) => requireCoordinator().trigger(path),
    async stopWithSavepoint(path) {
      const handle = await requireCoordinator().trigger(path);
      cancelled = true;
      current?.cancel();
      return handle;
    },
    get stateBackends() {
      return current?.stateBackends ?? new Map();
    },
    get channels() {
      return current?.channels ?? [];
    },
    checkpoints: history,
    get restarts() {
      return restarts;
    },
    get restoredFrom() {
      return restoredFrom;
    },
    get stuck() {
      return stuck;
    },
  };
}

function exhausted(jobName: string, restarts: number, error: unknown): SluiceError {
  return new SluiceError('JOB_RESTARTS_EXHAUSTED', `job '${jobName}' failed again after ${restarts} restart(s): ${(error as Error).message}`, {
    cause: error,
  });
}
