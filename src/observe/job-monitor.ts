import { join, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import type { CheckpointStats } from '../checkpoint/coordinator.js';
import type { CheckpointHandle } from '../checkpoint/types.js';
import { isStorageFull } from '../checkpoint/storage-failure.js';
import { SluiceError } from '../errors/index.js';
import type { JobLog } from './job-log.js';
import type { JobMetrics } from './job-metrics.js';
import type { PlanJson } from './plan-json.js';
import { prometheusRegistry } from './prometheus.js';
import { MetricsSampler } from './sampler.js';

/**
 * What the monitor (and through it the REST API) needs of the running job: the runtime's
 * `RunningJob` is one. Declared here so that observing a job does not depend on the runtime.
 */
export interface JobControl {
  /** Stops the job; its checkpoints are kept. */
  cancel(): void;
  /** Takes a savepoint into the directory `path`; resolves with it once complete. */
  savepoint(path: string): Promise<CheckpointHandle>;
  /** Takes a savepoint into `path`, then stops the job (it ends as cancelled). */
  stopWithSavepoint(path: string): Promise<CheckpointHandle>;
  /**
   * The graceful stop `sluice run` does on SIGTERM (`StartedJob.stop`): sources that can end
   * their input drain, a last checkpoint covers what they accepted, the sinks commit it.
   * Resolves once the job was told to end; rejects, after cancelling, when no checkpoint could be taken.
   */
  stop(): Promise<void>;
  /** Checkpoints of this run, oldest first. */
  readonly checkpoints: readonly CheckpointStats[];
  /** The checkpoint or savepoint this run started from, if any. */
  readonly restoredFrom: number | undefined;
  /** Steps of the current attempt found stuck by the watchdog (`/healthz` fails while there are any). */
  readonly stuck?: readonly StuckStep[] | undefined;
}

/**
 * A step the watchdog found stuck: it had not returned from one call (a batch, a
 * watermark, a timer, `open()`…) for the job's `stuckAfter`.
 */
export interface StuckStep {
  /** The step's uid. */
  readonly step: string;
  readonly kind: string;
  /** The task (subtask) it runs in, as named in metrics. */
  readonly task: string;
  /** `'main thread'` or `'worker thread N'`. */
  readonly thread: string;
  /** How long it had been in the call when found (ms). */
  readonly forMs: number;
  /** What the call was handling: `'a batch of 12 records'`, `'a watermark'`, `'open()'`… */
  readonly call: string;
  /** When the call started (epoch ms). */
  readonly since: number;
  /**
   * A bounded preview of the record the call was handling, as it entered the task (its
   * chain's first step): with a batch of several, its first (a restart then hands the task
   * one record at a time, so that a step stuck again on the same record names it).
   * Undefined for calls that handle no record.
   */
  readonly record?: string | undefined;
}

/**
 * The record part of a stuck step's message: `: {"i":101}` when its call was handling one
 * record, ` (the first: {…}; …)` for a batch of several, nothing for a call that handles
 * no record (a watermark, a timer).
 *
 * @example
 * stuckRecord({ call: 'a batch of 1 record', record: '{"i":101}' } as StuckStep); // ': {"i":101}'
 */
export function stuckRecord(stuck: StuckStep): string {
  if (stuck.record === undefined) return '';
  return stuck.call === 'a batch of 1 record'
    ? `: ${stuck.record}`
    : ` (the first: ${stuck.record}; after a restart this task takes its records one at a time, to name the very one)`;
}

/**
 * Where a run is: `'running'`, `'restarting'` (it failed and waits for its next attempt),
 * or how it ended: `'finished'` (every bounded input ended), `'cancelled'`, `'failed'`.
 */
export type JobStatus = 'running' | 'restarting' | 'finished' | 'cancelled' | 'failed';

/** A failure of the job: one that made it restart, or the one that ended it. */
export interface JobException {
  /** Epoch ms. */
  readonly time: number;
  /** `'restart'`: the job restarted after it; `'failure'`: it ended the job. */
  readonly kind: 'restart' | 'failure';
  /** The first line of the error's message. */
  readonly message: string;
  /** The error's code, for a {@link SluiceError}. */
  readonly code?: string | undefined;
  /** The uid of the step it happened in, when known. */
  readonly step?: string | undefined;
  /** Which restart it caused (1 for the first), for kind `'restart'`. */
  readonly restart?: number | undefined;
}

/**
 * Everything an operator of a running job can see and do: status, plan, metrics
 * (Prometheus and JSON samples), checkpoints, exceptions, logs, traces; savepoints and
 * cancel. The REST server and the dashboard are built on it; so is `sluice run`'s
 * progress line. Lifecycle events are logged here, with the job id on every line.
 */
export class JobMonitor {
  /** Where the run is now. */
  status: JobStatus = 'running';
  /** Epoch ms. */
  readonly startedAt = Date.now();
  /** Epoch ms; undefined while the run goes on. */
  endedAt: number | undefined;
  /** Failures so far, oldest first: each restart's cause, and the failure that ended the run. */
  readonly exceptions: JobException[] = [];
  readonly sampler: MetricsSampler;
  /** The job's labels (`Job({ labels })`): shown by `GET /jobs`, read by the REST API's attribute rules. */
  labels: Readonly<Record<string, string>> = {};

  constructor(
    /** The job's name: it names the job in the REST API (`/jobs/:id`) and on every log line. */
    readonly id: string,
    /** The plan as JSON (tasks, steps, edges), served with `GET /jobs/:id`. */
    readonly plan: PlanJson,
    /** The counters the runtime adds to, across restarts. */
    readonly metrics: JobMetrics,
    /** The job's JSON log; its recent lines are served at `GET /jobs/:id/logs`. */
    readonly log: JobLog,
    private readonly job: () => JobControl,
    /** Whether steps count records (`metrics: false` turns it off). */
    readonly counting: boolean,
    /**
     * Where the job's savepoints go (absolute: `checkpoints.savepointDir`, default
     * `.sluice/savepoints/<job>`), and its checkpoint directory when it checkpoints to files:
     * a savepoint path given through the REST API is confined to the one and kept out of the other.
     */
    readonly dirs: { readonly savepoints: string; readonly checkpoints?: string | undefined } = { savepoints: resolve('.sluice/savepoints', id) },
  ) {
    this.sampler = new MetricsSampler(() => metrics.snapshot());
  }

  /** The job's Prometheus registry, made at the first scrape (see `prometheus.ts`). */
  get registry(): Registry {
    return (this.promRegistry ??= prometheusRegistry(this.metrics, () => this.status));
  }
  private promRegistry: Registry | undefined;

  get running(): JobControl {
    return this.job();
  }

  /** Logs `job_started` with how the run delivers and restores. Called once by `Job.start`. */
  started(details: { delivery: string; checkpoints: boolean; fromSavepoint?: string | undefined }): void {
    this.log.logger.info({ event: 'job_started', ...details, tasks: this.plan.tasks.length }, `job '${this.id}' started`);
  }

  /**
   * Records a failure the job restarts after: status `'restarting'` until `delayMs` have
   * passed, an exception, a `job_restarting` warning. Called by `Job.start` on each restart.
   */
  restarted(error: unknown, restart: number, delayMs: number): void {
    this.status = 'restarting';
    this.metrics.restarts = restart;
    const e = describe(error);
    this.exceptions.push({ time: Date.now(), kind: 'restart', restart, ...e });
    if (this.exceptions.length > 100) this.exceptions.shift();
    if (isStorageFull(error)) {
      // Restarted outside the restart policy after a pause (see the runtime's supervise()).
      this.metrics.storageFullRestarts++;
      this.diskFull = `${e.code ?? 'STORAGE_FULL'} (${e.message})`;
      this.log.logger.warn(
        { event: 'job_restarting', restart, delayMs, storageFull: true, err: e, step: e.step },
        `job '${this.id}' failed on a full disk (${e.message}); next attempt in ${delayMs}ms`,
      );
    } else this.log.logger.warn({ event: 'job_restarting', restart, delayMs, err: e, step: e.step }, `job '${this.id}' failed (${e.message}); restart ${restart} in ${delayMs}ms`);
    // The next attempt starts after the delay; it counts as running from then.
    setTimeout(() => {
      if (this.status === 'restarting') this.status = 'running';
    }, delayMs).unref();
  }

  /**
   * Records a step the watchdog found stuck: a `step_stuck` error line naming the step, its
   * task and thread and what it was handling. `/healthz` and `/readyz` fail while the
   * attempt lasts (see {@link healthy}). Called by `Job.start`'s supervisor.
   */
  stuck(s: StuckStep): void {
    this.log.logger.error(
      { event: 'step_stuck', code: 'STEP_STUCK', step: s.step, task: s.task, thread: s.thread, forMs: s.forMs, call: s.call, ...(s.record === undefined ? {} : { record: s.record }) },
      `step '${s.step}' (${s.kind}) of task '${s.task}' has not returned for ${s.forMs} ms, handling ${s.call}${stuckRecord(s)}, ${s.thread === 'main thread' ? 'on the main thread' : `in ${s.thread}`}`,
    );
  }

  /** Whether no step of the current attempt is stuck (liveness: `GET /healthz`). */
  get healthy(): boolean {
    return (this.running.stuck?.length ?? 0) === 0;
  }

  /**
   * Why the job is degraded, or undefined when it is not: its latest checkpoint failed for
   * want of storage (`STORAGE_FULL`, say), or an attempt failed on a full disk and no
   * checkpoint has completed since. It keeps running (or restarting), so it is alive, but
   * not ready: `GET /healthz` answers 200 with status degraded, `GET /readyz` 503.
   */
  get degraded(): string | undefined {
    const last = this.running.checkpoints.at(-1);
    if (last?.status === 'failed' && last.storageFailure !== undefined) return `checkpoint storage: ${last.storageFailure} (${last.failure ?? 'failed'})`;
    return this.diskFull === undefined ? undefined : `restarting after a full disk: ${this.diskFull}`;
  }
  /** The failure of the latest attempt that failed on a full disk, until a checkpoint completes. */
  private diskFull: string | undefined;

  /** Records the end of a run that finished or was cancelled: status, `endedAt`, a last metrics sample, a log line. Called by `Job.start`. */
  ended(status: 'finished' | 'cancelled'): void {
    this.status = status;
    this.endedAt = Date.now();
    this.sampler.sample();
    this.sampler.stop();
    this.log.logger.info({ event: `job_${status}`, durationMs: this.endedAt - this.startedAt, restarts: this.metrics.restarts }, `job '${this.id}' ${status}`);
  }

  /** Records the failure that ended the run: status `'failed'`, an exception, a last metrics sample, a `job_failed` error line. Called by `Job.start`. */
  failed(error: unknown): void {
    this.status = 'failed';
    this.endedAt = Date.now();
    const e = describe(error);
    this.exceptions.push({ time: Date.now(), kind: 'failure', ...e });
    this.sampler.sample();
    this.sampler.stop();
    this.log.logger.error({ event: 'job_failed', err: e, step: e.step }, `job '${this.id}' failed: ${e.message}`);
  }

  /** Logs a checkpoint or savepoint: at info when it completed, as a warning when it failed. Called by `Job.start`'s supervisor. */
  checkpoint(s: CheckpointStats): void {
    if (s.status === 'completed' && s.kind === 'checkpoint') this.diskFull = undefined;
    const fields = { event: `${s.kind}_${s.status}`, checkpointId: s.checkpointId, durationMs: s.durationMs, sizeBytes: s.sizeBytes, alignmentMs: s.alignmentMs, path: s.path };
    if (s.status === 'completed') this.log.logger.info(fields, `${s.kind} ${s.checkpointId} completed`);
    else this.log.logger.warn({ ...fields, failure: s.failure }, `${s.kind} ${s.checkpointId} failed: ${s.failure}`);
  }

  /** Takes a savepoint to `path` (default `<savepoint dir>/sp-<time>`, see {@link dirs}): any path; the REST API confines it first. */
  async savepoint(path?: string, stop = false): Promise<CheckpointHandle> {
    if (this.status !== 'running' && this.status !== 'restarting') {
      throw new SluiceError('JOB_NOT_RUNNING', `job '${this.id}' is ${this.status}: it takes no savepoint`);
    }
    const where = path ?? join(this.dirs.savepoints, `sp-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    this.log.logger.info({ event: 'savepoint_triggered', path: where, stop }, `savepoint to ${where}${stop ? ', then stop' : ''}`);
    try {
      // A periodic checkpoint in flight delays the savepoint (the coordinator waits for it).
      return stop ? await this.running.stopWithSavepoint(where) : await this.running.savepoint(where);
    } catch (e) {
      this.log.logger.warn({ event: 'savepoint_failed', path: where, err: describe(e) }, `savepoint to ${where} failed`);
      throw e;
    }
  }

  /**
   * Stops the run gracefully (logged as `job_stop_requested`), as SIGTERM stops `sluice run`:
   * see {@link JobControl.stop}. Returns at once; the job ends when its last checkpoint is
   * committed (`done` settles then). A stop that finds no checkpoint to take cancels, and
   * says why in the log.
   */
  stop(): void {
    this.log.logger.info({ event: 'job_stop_requested' }, `stopping job '${this.id}': sources that can end their input drain, then a last checkpoint and its commit`);
    void this.running.stop().catch((e: unknown) => {
      this.log.logger.warn({ event: 'job_stop_failed', err: describe(e) }, `job '${this.id}' stopped without a last checkpoint; the next run resumes from the latest`);
    });
  }

  /** Cancels the run (logged as `job_cancel_requested`): `done` then resolves with status `'cancelled'`. */
  cancel(): void {
    this.log.logger.info({ event: 'job_cancel_requested' }, `cancelling job '${this.id}'`);
    this.running.cancel();
  }
}

function describe(error: unknown): { message: string; code?: string; step?: string } {
  if (error instanceof SluiceError) return { message: error.message.split('\n')[0]!, code: error.code, step: error.step };
  return { message: error instanceof Error ? error.message : String(error) };
}
