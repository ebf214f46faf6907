import type { CheckpointConfig } from '../checkpoint/config.js';
import { storageRetryMs, type CheckpointStats } from '../checkpoint/coordinator.js';
import { isStorageFull } from '../checkpoint/storage-failure.js';
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
  /**
   * Stops every source that can end its input (`Source.stop`: HTTP ingest answers 503 and
   * hands out what it accepted), in this attempt and any that follows a restart. Returns
   * whether any source could.
   */
  drain(): boolean;
  /**
   * A graceful stop, after {@link drain}: once the stopped sources have handed out all they
   * accepted, takes a checkpoint that covers it (the other sources' positions too), lets the
   * sinks commit it, then cancels. Nothing a stopped source acknowledged is lost, and the
   * next run resumes the sources that read on from that checkpoint. Without checkpoints, or
   * when no checkpoint can be taken within the checkpoint timeout, it cancels all the same
   * (the promise then rejects with why). Resolves once the job was told to end.
   */
  stopAfterCheckpoint(): Promise<void>;
  /** Takes a savepoint (needs checkpoints on). */
  savepoint(path: string): Promise<CheckpointHandle>;
  /**
   * Takes a savepoint, then stops the job. After {@link drain}, the savepoint waits until
   * the stopped sources have handed out what they accepted, so it covers all of it.
   */
  stopWithSavepoint(path: string): Promise<CheckpointHandle>;
  /** Keyed state backends of the current attempt, by step uid. */
  readonly stateBackends: ReadonlyMap<string, KeyedStateBackend>;
  /** Channels of the current attempt. */
  readonly channels: readonly LocalChannel<unknown>[];
  /** Checkpoints of this run, oldest first. */
  readonly checkpoints: readonly CheckpointStats[];
  /** Restarts so far under the restart policy (attempts restarted after a full disk, STORAGE_FULL, are not counted). */
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
 *
 * An attempt that failed on a full disk (STORAGE_FULL: the on-disk state, a final
 * checkpoint) is the disk's fault, not the job's, and a quick restart would not free it:
 * when the policy allows restarts at all, the job rides it out as checkpoint storage
 * does, restarting after growing pauses (`storageRetryMs`, reset by a checkpoint that
 * completes) that the policy does not count (`test/state/disk/storage-full.test.ts`).
 */
export function supervise(graph: JobGraph<Operator>, config: RuntimeConfig, deadLetters: DeadLetterQueue | undefined, options: SuperviseOptions): RunningJob {
  const history: CheckpointStats[] = [];
  let current: Attempt | undefined;
  let cancelled = false;
  let restarts = 0;
  let restoredFrom: number | undefined;
  let stuck: StuckStep[] = [];
  /** Attempts in a row that failed on a full disk: the pause before the next grows with them. */
  let storageWaits = 0;
  /** Ends the pause before the next attempt (cancel calls it). */
  let wake: (() => void) | undefined;
  /** drain() was called: every attempt stops its stoppable sources. */
  let draining = false;
  const pause = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const stop = config.clock.schedule(config.clock.now() + ms, resolve);
      wake = () => {
        stop();
        resolve();
      };
    }).finally(() => (wake = undefined));
  const storage = options.checkpoints?.storage;

  const startAttempt = (restore: CheckpointData | undefined): Attempt => {
    deadLetters?.reset();
    restoredFrom ??= restore?.checkpointId;
    const run = slotsOf(graph, config) > 1 ? executeParallel : execute;
    // Tasks the last attempt was stuck in hand their records one at a time for a while, so
    // that if a record sticks them again, the watchdog names it (Task.diagnosing).
    const diagnose = stuck.length > 0 ? new Set(stuck.map((s) => s.task)) : undefined;
    const found: StuckStep[] = (stuck = []);
    current = run(graph, config, deadLetters, {
      restore,
      diagnose,
      onStuck: (s) => {
        found.push(s);
        options.onStuck?.(s);
      },
      checkpoints: options.checkpoints ? { ...options.checkpoints, onEvent: (s) => {
        history.push(s);
        if (s.status === 'completed') storageWaits = 0;
        options.onCheckpoint?.(s);
      } } : undefined,
    });
    // A cancel that came while the attempt was being prepared (reading the latest checkpoint) holds.
    if (cancelled) current.cancel();
    else if (draining) current.drain();
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
        if (options.restart.free?.(error)) {
          options.onRestart?.(error, restarts, 0);
          attempt = startAttempt(await restorePoint());
          continue;
        }
        if (options.restart.maxAttempts > 0 && isStorageFull(error)) {
          storageWaits++;
          const wait = Math.max(storageRetryMs(storageWaits), options.restart.delayFor(restarts + 1) ?? 0);
          options.onRestart?.(error, restarts, wait);
          await pause(wait);
          if (cancelled) return { status: 'cancelled' };
          attempt = startAttempt(await restorePoint());
          continue;
        }
        const delay = options.restart.delayFor(restarts + 1);
        if (delay === undefined) throw restarts === 0 ? error : exhausted(config.jobName, restarts, error);
        restarts++;
        options.onRestart?.(error, restarts, delay);
        await pause(delay);
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

  const cancel = () => {
    cancelled = true;
    current?.cancel();
    wake?.();
  };
  return {
    done,
    cancel,
    drain() {
      draining = true;
      return current?.drain() ?? false;
    },
    async stopAfterCheckpoint() {
      try {
        await current?.checkpointDrained();
      } finally {
        cancel();
      }
    },
    savepoint: async (path) => requireCoordinator().trigger(path),
    async stopWithSavepoint(path) {
      requireCoordinator();
      const handle = await current!.checkpointDrained(path);
      if (handle === undefined) throw new SluiceError('CHECKPOINT_FAILED', `job '${config.jobName}' ended before its savepoint was taken`);
      cancelled = true;
      current?.cancel();
      wake?.();
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
