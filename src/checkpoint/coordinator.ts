import { SluiceError } from '../errors/index.js';
import type { Clock } from '../time/clock.js';
import type { CheckpointConfig } from './config.js';
import { selfContained } from './shared-state.js';
import { isIoError, isStorageFull } from './storage-failure.js';
import { mergeStepStates } from './step-parts.js';
import type { CheckpointData, CheckpointHandle, CheckpointStorage, StepState } from './types.js';

/** What the coordinator asks of the running tasks. */
export interface CheckpointParticipants {
  /** Tasks that must acknowledge every checkpoint. */
  readonly taskCount: number;
  /** Every source injects barrier `id` after the records it has read. */
  injectBarrier(id: number): void;
  /** The checkpoint is durable: sinks commit what it covers. */
  notifyComplete(id: number): void;
}

/** One checkpoint's figures (for metrics, the REST API and the dashboard). */
export interface CheckpointStats {
  readonly checkpointId: number;
  readonly kind: 'checkpoint' | 'savepoint';
  readonly status: 'completed' | 'failed';
  readonly triggeredAt: number;
  readonly durationMs: number;
  readonly sizeBytes: number;
  /** Longest time a task spent aligning barriers. */
  readonly alignmentMs: number;
  readonly failure?: string | undefined;
  /**
   * Set when the storage refused the write: 'STORAGE_FULL' (no space left, no quota) or
   * 'CHECKPOINT_FAILED' (another storage error). Counted by
   * `sluice_checkpoint_storage_failures_total`.
   */
  readonly storageFailure?: 'STORAGE_FULL' | 'CHECKPOINT_FAILED' | undefined;
  readonly path?: string | undefined;
}

/** First pause after a checkpoint the storage refused; it doubles with each refusal in a row. */
export const STORAGE_RETRY_MS = 250;
/** The pause after storage failures stops growing at the checkpoint interval or this, whichever is longer. */
export const STORAGE_RETRY_MAX_MS = 30_000;

/**
 * The pause after `failures` storage failures in a row (1 for the first): {@link STORAGE_RETRY_MS},
 * doubling with each, up to `capMs`. Checkpoints and attempts that fail on a full disk
 * (the supervisor) pause alike, so a disk that stays full sees a few tries, not a storm.
 *
 * @example
 * storageRetryMs(1); // 250
 * storageRetryMs(3); // 1000
 */
export function storageRetryMs(failures: number, capMs: number = STORAGE_RETRY_MAX_MS): number {
  return Math.min(capMs, STORAGE_RETRY_MS * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
}

interface Pending {
  id: number;
  kind: 'checkpoint' | 'savepoint';
  savepointPath?: string | undefined;
  triggeredAt: number;
  acks: Map<string, Record<string, StepState>>;
  alignmentMs: number;
  cancelTimeout: () => void;
  resolve: (h: CheckpointHandle) => void;
  reject: (e: unknown) => void;
}

/**
 * Runs checkpoints (Flink's CheckpointCoordinator, for one process): every interval it
 * injects a barrier at the sources; each task snapshots its steps when the barrier has
 * reached all its inputs and acknowledges; once every task has, the state is written to
 * storage, and only then are sinks told to commit. One checkpoint at a time; a
 * checkpoint not done within the timeout fails (the job goes on). Savepoints are
 * checkpoints written to a path of the user's choice.
 */
export class CheckpointCoordinator {
  private nextId: number;
  private pending: Pending | undefined;
  private cancelNext: (() => void) | undefined;
  private stopped = false;
  /** Final states of tasks that have consumed all their input: they acknowledge every later checkpoint. */
  private readonly finished = new Map<string, Record<string, StepState>>();
  private finalCheckpoint: Promise<number | undefined> | undefined;
  /** Set by stop(): the final checkpoint stops retrying. */
  private halted = false;
  /** Ends the pause before the final checkpoint's next attempt (stop() calls it). */
  private wakeFinal: (() => void) | undefined;
  readonly history: CheckpointStats[] = [];
  lastCompleted: CheckpointHandle | undefined;
  /** Checkpoints in a row whose write the storage refused (0 once one is written): the pause before the next grows with it. */
  storageFailures = 0;

  constructor(
    private readonly jobName: string,
    private readonly config: CheckpointConfig,
    private readonly storage: CheckpointStorage,
    private readonly clock: Clock,
    private readonly participants: CheckpointParticipants,
    /** The id of the checkpoint restored from, if any: ids continue after it. */
    restoredId = 0,
    private readonly onEvent: (stats: CheckpointStats) => void = () => {},
  ) {
    this.nextId = restoredId + 1;
  }

  /** Starts periodic checkpoints. */
  start(): void {
    this.schedule(this.clock.now() + this.config.intervalMs);
  }

  /** Stops triggering; a pending checkpoint is abandoned. */
  stop(): void {
    this.stopped = true;
    this.halted = true;
    this.wakeFinal?.();
    for (const w of this.finishWaiters.splice(0)) w();
    this.cancelNext?.();
    for (const w of this.finalWaiters.splice(0)) w.resolve(undefined);
    const p = this.pending;
    if (p) {
      p.cancelTimeout();
      this.pending = undefined;
      p.reject(new SluiceError('CHECKPOINT_FAILED', `checkpoint ${p.id} abandoned: the job stopped`));
    }
  }

  get isIdle(): boolean {
    return this.pending === undefined;
  }

  /**
   * Starts a checkpoint now (or a savepoint to `savepointPath`). Resolves when it is
   * durable. One runs at a time: a checkpoint asked for while another is in flight is
   * refused; a savepoint waits for it to end, then starts.
   */
  trigger(savepointPath?: string): Promise<CheckpointHandle> {
    if (this.stopped) return Promise.reject(new SluiceError('CHECKPOINT_FAILED', 'the job is not running'));
    if (this.pending) {
      if (savepointPath !== undefined) return this.settled(this.pending).then(() => this.trigger(savepointPath));
      return Promise.reject(new SluiceError('CHECKPOINT_FAILED', `checkpoint ${this.pending.id} is still in progress`));
    }
    const id = this.nextId++;
    return new Promise<CheckpointHandle>((resolve, reject) => {
      const cancelTimeout = this.clock.schedule(this.clock.now() + this.config.timeoutMs, () => this.fail(id, 'timed out'));
      this.pending = {
        id,
        kind: savepointPath ? 'savepoint' : 'checkpoint',
        savepointPath,
        triggeredAt: this.clock.now(),
        acks: new Map(),
        alignmentMs: 0,
        cancelTimeout,
        resolve,
        reject,
      };
      for (const [task, steps] of this.finished) this.pending.acks.set(task, steps);
      this.participants.injectBarrier(id);
    });
  }

  /**
   * A task has consumed all its input; `steps` is its final state, which stands as its
   * acknowledgement of the pending and every later checkpoint. Once every task has
   * finished, one final checkpoint is written (it covers all output, so exactly-once
   * sinks commit the rest after it); the promise resolves with its id, or undefined when
   * the job stopped meanwhile. When it cannot be written the promise rejects: the output
   * since the last checkpoint is not committed, so the job must not end as finished (it
   * restarts from its latest checkpoint, which it keeps, and commits that output then;
   * see `final-checkpoint.test.ts`).
   */
  taskFinished(task: string, steps: Record<string, StepState>): Promise<number | undefined> {
    this.finished.set(task, steps);
    for (const w of this.finishWaiters.splice(0)) w();
    const p = this.pending;
    if (p && !p.acks.has(task)) this.acknowledge(p.id, task, steps);
    if (this.finished.size < this.participants.taskCount) {
      return new Promise((resolve, reject) => this.finalWaiters.push({ resolve, reject }));
    }
    this.finalCheckpoint ??= this.writeFinal();
    this.finalCheckpoint.then(
      (id) => {
        for (const w of this.finalWaiters.splice(0)) w.resolve(id);
      },
      (e: unknown) => {
        for (const w of this.finalWaiters.splice(0)) w.reject(e);
      },
    );
    return this.finalCheckpoint;
  }
  private readonly finalWaiters: Array<{ resolve: (id: number | undefined) => void; reject: (e: unknown) => void }> = [];
  /** Woken whenever a task finishes, and at stop (see `checkpointAfter`). */
  private finishWaiters: Array<() => void> = [];

  /**
   * A checkpoint that covers everything the tasks named in `tasks` emitted: once each has
   * finished (consumed all its input: a stopped source that has handed out what it
   * accepted), a checkpoint is taken (after the one in flight, if any); resolves once it is
   * durable and the sinks have been told to commit it. When every task finished, that is
   * the final checkpoint. A failed checkpoint is tried again after the storage pauses,
   * until one completes, the checkpoint timeout has passed since the tasks finished, or the
   * coordinator stops: then it rejects. A graceful stop of a job whose other sources read
   * on waits for it before it cancels (`test/cli/graceful-stop.test.ts`). With
   * `savepointPath`, that checkpoint is a savepoint there (stop-with-savepoint after a
   * drain); it rejects when every task finished first, as the job then ends without one.
   */
  async checkpointAfter(tasks: readonly string[], savepointPath?: string): Promise<CheckpointHandle | undefined> {
    while (!this.halted && !tasks.every((t) => this.finished.has(t))) {
      await new Promise<void>((resolve) => this.finishWaiters.push(resolve));
    }
    const deadline = this.clock.now() + this.config.timeoutMs;
    for (let failures = 0; ; ) {
      if (this.finalCheckpoint) {
        if (savepointPath !== undefined) throw new SluiceError('CHECKPOINT_FAILED', 'every source finished: the job ends with its final checkpoint, not a savepoint');
        const id = await this.finalCheckpoint;
        return id === undefined ? undefined : this.lastCompleted;
      }
      if (this.halted) throw new SluiceError('CHECKPOINT_FAILED', 'the job stopped before a checkpoint covered what its stopped sources had accepted');
      while (this.pending) await this.settled(this.pending);
      if (this.finalCheckpoint) continue;
      try {
        return await this.trigger(savepointPath);
      } catch (e) {
        failures++;
        const retryAt = this.clock.now() + storageRetryMs(failures, Math.max(this.config.intervalMs, STORAGE_RETRY_MAX_MS));
        if (this.halted || retryAt > deadline) throw e;
        await this.clock.sleep(retryAt - this.clock.now());
      }
    }
  }

  /**
   * The final checkpoint, which the sinks' last commit waits for. While the storage fails
   * with an I/O error (a full disk), it is retried with the same growing pauses as periodic
   * checkpoints, for up to the checkpoint timeout or until the job is stopped. Another
   * failure, or the timeout, fails the attempt (it must not end as finished: its
   * checkpoints would be deleted and the output after the last completed checkpoint,
   * never committed, lost): the job restarts from its latest checkpoint, which it keeps,
   * or fails, and the next start commits that output (`storage-full.test.ts`,
   * `final-checkpoint.test.ts`).
   */
  private async writeFinal(): Promise<number | undefined> {
    this.cancelNext?.();
    this.stopped = true;
    if (this.pending) await this.settled(this.pending);
    const id = this.nextId++;
    const steps = mergeStepStates(this.finished.values());
    const deadline = this.clock.now() + this.config.timeoutMs;
    for (;;) {
      const triggeredAt = this.clock.now();
      try {
        const handle = await this.storage.write({ jobName: this.jobName, checkpointId: id, triggeredAt, steps });
        this.lastCompleted = handle;
        this.storageFailures = 0;
        this.record({ checkpointId: id, kind: 'checkpoint', status: 'completed', triggeredAt, durationMs: this.clock.now() - triggeredAt, sizeBytes: handle.sizeBytes, alignmentMs: 0, path: handle.path });
        await this.retain(id);
        return id;
      } catch (e) {
        const storageFailure = isStorageFull(e) ? 'STORAGE_FULL' : 'CHECKPOINT_FAILED';
        this.storageFailures++;
        this.record({ checkpointId: id, kind: 'checkpoint', status: 'failed', triggeredAt, durationMs: this.clock.now() - triggeredAt, sizeBytes: 0, alignmentMs: 0, failure: (e as Error).message.split('\n')[0], storageFailure });
        if (this.halted) return undefined;
        const retryAt = this.clock.now() + this.storageRetryMs();
        if (!isIoError(e) || retryAt > deadline) throw this.finalFailed(id, e);
        await new Promise<void>((resolve) => {
          const cancel = this.clock.schedule(retryAt, resolve);
          this.wakeFinal = () => {
            cancel();
            resolve();
          };
        });
        this.wakeFinal = undefined;
        if (this.halted) return undefined;
      }
    }
  }

  /** The error that fails the attempt whose final checkpoint could not be written. */
  private finalFailed(id: number, cause: unknown): SluiceError {
    const last = this.lastCompleted?.checkpointId;
    return new SluiceError(isStorageFull(cause) ? 'STORAGE_FULL' : 'CHECKPOINT_FAILED', `job '${this.jobName}': its final checkpoint ${id} could not be written: ${(cause as Error).message.split('\n')[0]}`, {
      detail: `The output since ${last === undefined ? 'the start' : `checkpoint ${last}`} is not committed; the job's checkpoints are kept.`,
      hint: 'Free or fix the checkpoint storage; the next run (or restart) resumes from the latest checkpoint and commits that output.',
      cause,
    });
  }

  /** Waits until a pending checkpoint has completed or failed. */
  private settled(p: Pending): Promise<void> {
    return new Promise((resolve) => {
      const { resolve: ok, reject: ko } = p;
      p.resolve = (h) => {
        ok(h);
        resolve();
      };
      p.reject = (e) => {
        ko(e);
        resolve();
      };
    });
  }

  /** A task has snapshot its steps for checkpoint `id`. */
  acknowledge(id: number, task: string, steps: Record<string, StepState>, alignmentMs = 0): void {
    const p = this.pending;
    if (!p || p.id !== id) return; // late ack of a checkpoint given up
    p.acks.set(task, steps);
    p.alignmentMs = Math.max(p.alignmentMs, alignmentMs);
    if (p.acks.size === this.participants.taskCount) void this.complete(p);
  }

  /** A task could not snapshot: the checkpoint fails. */
  decline(id: number, reason: string): void {
    this.fail(id, reason);
  }

  private async complete(p: Pending): Promise<void> {
    p.cancelTimeout();
    const steps = mergeStepStates(p.acks.values());
    const data: CheckpointData = { jobName: this.jobName, checkpointId: p.id, triggeredAt: p.triggeredAt, steps };
    let handle: CheckpointHandle;
    try {
      // A savepoint holds every entry itself, never a handle of files in the job's checkpoint directory.
      handle = p.savepointPath ? await this.storage.writeSavepoint(await selfContained(data, this.clock), p.savepointPath) : await this.storage.write(data);
    } catch (e) {
      this.fail(p.id, `storage failed: ${(e as Error).message.split('\n')[0]}`, isStorageFull(e) ? 'STORAGE_FULL' : 'CHECKPOINT_FAILED');
      return;
    }
    if (this.pending !== p) return;
    this.pending = undefined;
    this.storageFailures = 0;
    if (p.kind === 'checkpoint') this.lastCompleted = handle;
    this.record({
      checkpointId: p.id,
      kind: p.kind,
      status: 'completed',
      triggeredAt: p.triggeredAt,
      durationMs: this.clock.now() - p.triggeredAt,
      sizeBytes: handle.sizeBytes,
      alignmentMs: p.alignmentMs,
      path: handle.path,
    });
    this.participants.notifyComplete(p.id);
    p.resolve(handle);
    if (p.kind === 'checkpoint') await this.retain(p.id);
    this.schedule(Math.max(p.triggeredAt + this.config.intervalMs, this.clock.now() + this.config.minPauseMs));
  }

  /**
   * Checkpoint `id` failed. After a failure of the storage (a full disk most often) the
   * next checkpoint waits STORAGE_RETRY_MS, doubling with every further one in a row, up to
   * the interval or STORAGE_RETRY_MAX_MS: a storage that keeps failing sees a few attempts,
   * not a retry storm (see `storage-full.test.ts`). Other failures retry at once.
   */
  private fail(id: number, reason: string, storageFailure?: CheckpointStats['storageFailure']): void {
    const p = this.pending;
    if (!p || p.id !== id) return;
    p.cancelTimeout();
    this.pending = undefined;
    if (storageFailure) this.storageFailures++;
    this.record({
      checkpointId: id,
      kind: p.kind,
      status: 'failed',
      triggeredAt: p.triggeredAt,
      durationMs: this.clock.now() - p.triggeredAt,
      sizeBytes: 0,
      alignmentMs: p.alignmentMs,
      failure: reason,
      storageFailure,
    });
    p.reject(new SluiceError(storageFailure ?? 'CHECKPOINT_FAILED', `checkpoint ${id} failed: ${reason}`));
    const pause = storageFailure ? this.storageRetryMs() : 1;
    this.schedule(this.clock.now() + Math.max(this.config.minPauseMs, pause));
  }

  /** The pause after the storage refused `storageFailures` checkpoints in a row. */
  private storageRetryMs(): number {
    return storageRetryMs(this.storageFailures, Math.max(this.config.intervalMs, STORAGE_RETRY_MAX_MS));
  }

  private record(stats: CheckpointStats): void {
    this.history.push(stats);
    if (this.history.length > 100) this.history.shift();
    this.onEvent(stats);
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    this.cancelNext?.();
    this.cancelNext = this.clock.schedule(at, () => {
      this.cancelNext = undefined;
      if (this.stopped || this.pending) return;
      this.trigger().catch(() => {
        // recorded in history; the next one is scheduled by fail()
      });
    });
  }

  /**
   * Keeps the newest `retain` checkpoints, and the shared files they list (`shared-state.ts`);
   * `completedId` just completed. Only intact checkpoints are listed, so the one recovery
   * resumes from and, with `retain` 2 or more, its fallback are never deleted
   * (`retention-guard.test.ts`).
   */
  private retain(completedId: number): Promise<void> {
    // One retention at a time, and `tidied()` waits for the last: a job that has ended has
    // deleted what it was going to delete (a test filling a disk saw space come back
    // after the job that used it had ended).
    const run = this.retaining.then(() => this.retainNow(completedId));
    this.retaining = run;
    return run;
  }
  private retaining: Promise<void> = Promise.resolve();

  /** Settles once the retention started last has deleted what it was going to. */
  tidied(): Promise<void> {
    return this.retaining;
  }

  private async retainNow(completedId: number): Promise<void> {
    // Retention is tidying: a storage that cannot list or delete now leaves older
    // checkpoints for the next completed one to remove. It must never reject: complete()
    // runs unawaited, and a rejection there would be unhandled (the process would crash).
    try {
      const all = await this.storage.list();
      for (const old of all.filter((h) => h.kind === 'checkpoint').slice(this.config.retain)) {
        await this.storage.discard(old).catch(() => {});
      }
      await this.storage.pruneShared?.(completedId).catch(() => {});
    } catch {
      // kept for the next retention
    }
  }

}
