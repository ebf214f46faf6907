import { SluiceError } from '../errors/index.js';
import type { KeyGroupRange } from '../state/key-groups.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { Clock } from '../time/clock.js';
import type { Batch } from './batch.js';
import type { OperatorOutputs } from './output.js';

/** Which of a step's parallel instances an operator is. */
export interface SubtaskInfo {
  /** 0 … parallelism - 1. */
  readonly index: number;
  readonly parallelism: number;
  /** The key groups this subtask owns (keyed steps see only keys of these groups). */
  readonly keyGroups: KeyGroupRange;
}

/** What the runtime offers every operator. */
export interface OperatorRuntime {
  /** The step's uid (names its state, metrics and errors). */
  readonly uid: string;
  /** The kind of step ('map', 'process', …), for messages. */
  readonly kind: string;
  readonly clock: Clock;
  readonly maxParallelism: number;
  /** Which parallel instance of the step this is. */
  readonly subtask: SubtaskInfo;
  /** The job runs exactly-once with checkpoints (transactional sinks publish only on commit). */
  readonly exactlyOnce: boolean;
  /** Names this execution of the job, the same across its restarts (`RuntimeConfig.executionId`). */
  readonly executionId: string;
  /**
   * Handles a throw of user code on a record: under the `fail` policy throws a
   * USER_FUNCTION_FAILED error naming the step and showing the record; under
   * `dead-letter` sends the record to the dead-letter output and returns.
   */
  userError(error: unknown, record: unknown, timestamp: number, what: string): void;
  /** Work the task finishes before it takes its next input (a sink's pending write). */
  defer(work: Promise<unknown>): void;
  /**
   * Where this subtask's keyed state backend may write the files of incremental
   * checkpoints (`KeyedStateBackend.checkpointTo`): a directory of the job's checkpoint
   * storage that outlives each checkpoint's own. Undefined: checkpoints hold plain snapshots.
   */
  readonly sharedStateDir?: string | undefined;
  /**
   * Makes the task's acknowledgement of the checkpoint being taken wait for `work` (the
   * files of a state copied at the barrier, written while the task goes on); a rejection
   * fails the task. Undefined where there is no task (test harnesses): await instead.
   */
  readonly ackAfter?: ((work: Promise<unknown>) => void) | undefined;
  /** The keyed state backend of this step (created on first call). */
  stateBackend(): KeyedStateBackend;
  /**
   * Runs `callback` when the clock reaches `at`, inside the task: a throw fails the job
   * like any other. Returns a function that cancels it. Cancelled when the task closes.
   */
  scheduleProcessingTime(at: number, callback: () => void): () => void;
  /**
   * Runs `callback` inside the task as soon as it may (Flink's mailbox): at once, or, when
   * the task is between a snapshot and its barrier, right after the barrier, so nothing
   * emitted falls between the two. A throw fails the job like any other. Async operators
   * hand the results of their calls over this way.
   */
  runInTask(callback: () => void): void;
}

/**
 * An operator is a lifecycle object: open, process batches, watermarks and idleness,
 * end of input, close. Side effects go only through `this.runtime` and `this.out`.
 * Chained operators call each other directly; the first of a chain is driven by its task.
 */
export abstract class Operator<I = any, O = any> {
  protected runtime!: OperatorRuntime;
  protected out!: OperatorOutputs<O>;
  /** The watermark this operator has received (the min over its inputs, for a task's head). */
  watermark = Number.NEGATIVE_INFINITY;

  setup(runtime: OperatorRuntime, out: OperatorOutputs<O>): void {
    this.runtime = runtime;
    this.out = out;
  }
  /** The step's uid (names its state in checkpoints). */
  get uid(): string {
    return this.runtime.uid;
  }
  /** The step's kind, stored with its state. */
  get kind(): string {
    return this.runtime.kind;
  }
  /**
   * Gives back the state this step had in a checkpoint or savepoint; called before
   * `open()`. The default keeps nothing (stateless steps).
   */
  initializeState(_state: unknown): void {}
  /**
   * Gives back the state of a checkpoint taken at another parallelism: `parts` holds the
   * state of every old subtask (undefined where one had none). Called instead of
   * `initializeState`, before `open()`. Keyed operators take the entries of their own key
   * groups from every part. The default accepts only parts that are all empty: operator
   * state (a reader's position, say) cannot be split without knowing what it means.
   */
  initializeStateParts(parts: readonly unknown[]): void {
    if (parts.every((p) => p === undefined)) return;
    throw new SluiceError(
      'STATE_RESCALE_UNSUPPORTED',
      `step '${this.uid}' (${this.kind}) ran with parallelism ${parts.length} and has state that cannot be redistributed to parallelism ${this.runtime.subtask.parallelism}`,
      { step: this.uid, hint: `Restore with parallelism ${parts.length} for this step.` },
    );
  }
  /**
   * The barrier of checkpoint `checkpointId` has reached this operator, and no step of its
   * chain has snapshot yet (Flink's `prepareSnapshotPreBarrier`). An operator that buffers
   * records to send later (a local pre-aggregation) sends them here: they go ahead of the
   * barrier, so the checkpoint needs none of them. The default does nothing.
   */
  prepareSnapshotPreBarrier(_checkpointId: number): void {}
  /**
   * The state to put in checkpoint `checkpointId`: called when the barrier has reached
   * this operator, so it covers exactly the records before the barrier. Undefined: none.
   */
  snapshotState(_checkpointId: number): unknown | Promise<unknown> {
    return undefined;
  }
  /** Checkpoint `checkpointId` is durable (exactly-once sinks commit here). */
  notifyCheckpointComplete(_checkpointId: number): void | Promise<void> {}
  open(): void | Promise<void> {}
  /** Records from input `input` (0 for one-input operators). */
  abstract processBatch(batch: Batch<I>, input: number): void;
  /** The input watermark advanced. The default forwards it. */
  processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.out.watermark(watermark);
  }
  processIdle(idle: boolean): void {
    this.out.idle(idle);
  }
  /** Every input has ended (after the final watermark). The default forwards the end. */
  endInput(): void {
    this.out.end();
  }
  close(): void | Promise<void> {}
}
