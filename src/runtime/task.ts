import type { TaskMetrics } from '../observe/step-metrics.js';
import type { SubtaskNode } from '../plan/physical-graph.js';
import type { Clock } from '../time/clock.js';
import type { ChannelOutput } from './channel-output.js';
import { OperatorChain, type ChainSpec, type ChainTask } from './operator-chain.js';
import type { Operator, SubtaskInfo } from './operator.js';
import { StepStamp, WHAT, WORDS_PER_TASK } from './watchdog/step-stamps.js';

/** A step's state in a checkpoint: see `checkpoint/types.ts`. */
export interface TaskStepState {
  readonly kind: string;
  readonly version: number;
  readonly state: unknown;
  /** Which subtask's state this is, for a step that runs in parallel (the coordinator gathers the parts). */
  readonly subtask?: { readonly index: number; readonly parallelism: number } | undefined;
}

/** How a task takes part in checkpoints (when the job checkpoints). */
export interface TaskCheckpointing {
  /** The task has snapshot its steps for checkpoint `id` and sent the barrier on. */
  acknowledge(id: number, task: string, steps: Record<string, TaskStepState>, alignmentMs: number): void;
  /**
   * The task has consumed all its input: `steps` is its final state. Resolves with the id
   * of the job's final checkpoint once it is durable (the task then lets its sinks commit),
   * or undefined when there is none (the job failed or was cancelled meanwhile).
   */
  finished(task: string, steps: Record<string, TaskStepState>): Promise<number | undefined>;
}

/** Something a task waits for before it takes more input (a full dead-letter queue, say). */
export interface Backpressure {
  readonly isFull: boolean;
  writable(): Promise<void>;
}

/** What a task is made from: its chain's spec, and how it takes part in the job. */
export interface TaskSpec extends ChainSpec {
  /** Undefined when the job does not checkpoint. */
  readonly checkpointing: TaskCheckpointing | undefined;
  /** What the task waits for besides its channels (a full dead-letter queue, say). */
  readonly backpressure: readonly Backpressure[];
  /**
   * How long the task may keep the event loop before it lets timers, I/O and messages
   * run (see `Placement.yieldIntervalMs`).
   */
  readonly yieldIntervalMs: number;
  /** Reports a failure to the job as soon as it happens. */
  readonly onFailure: (error: unknown) => void;
  /** The attempt's stamp words (`watchdog/step-stamps.ts`), indexed by physical node id. */
  readonly stamps: Int32Array;
  /** The previous attempt found this task stuck: hand the chain one record at a time (see {@link Task.diagnosing}). */
  readonly diagnose?: boolean | undefined;
}

/**
 * A task runs a chain of operators on its own loop: take input, push it through the
 * chain, then wait until every output has room (backpressure) and every deferred write
 * has settled. Tasks of one process share the event loop; JavaScript runs one at a time,
 * so an operator is never entered twice at once.
 */
export abstract class Task implements ChainTask {
  private deferred: Promise<unknown>[] = [];
  private scheduled = new Set<() => void>();
  /**
   * Set from the start of a snapshot until its barrier is sent on: callbacks given to
   * {@link runInTask} meanwhile wait in {@link held}, so that nothing an operator emits
   * falls between its snapshot and the barrier (it would be both in the snapshot and
   * before the barrier: done twice after a restore).
   */
  private holding = false;
  private held: Array<() => void> = [];
  protected error: unknown;
  /** Set when the task must stop early (failure here or elsewhere, or cancel). */
  protected stopped = false;
  private lastYield = performance.now();
  /** Waits to wake when the task stops (see `untilStopped`). */
  private readonly stopWaiters = new Set<() => void>();
  /** Commits of completed checkpoints in flight: the task closes its steps only once they have settled. */
  private readonly commits = new Set<Promise<void>>();
  /** The last checkpoint this task acknowledged itself (at a barrier). */
  private lastAcknowledged = 0;
  /**
   * Set when the task hands its final state over (all input consumed): the last checkpoint
   * it had acknowledged then. Every later checkpoint holds that final state.
   */
  private finalAfter: number | undefined;

  /** The subtask of the physical graph this task runs. */
  readonly node: SubtaskNode<Operator>;
  readonly name: string;
  /** Which subtask of its chain this task runs. */
  readonly subtask: SubtaskInfo;
  protected readonly chain: OperatorChain;
  /** The chain's operators, head first. */
  readonly operators: readonly Operator[];
  /** Outputs into the task's channels: flushed, sent barriers, and waited for when full. */
  readonly channelOutputs: readonly ChannelOutput<unknown>[];
  protected readonly clock: Clock;
  private readonly backpressure: readonly Backpressure[];
  private readonly yieldIntervalMs: number;
  private readonly onFailure: (error: unknown) => void;
  protected readonly checkpointing: TaskCheckpointing | undefined;
  /** Busy, backpressured and idle time, records in; undefined when the job counts nothing. */
  protected readonly metrics: TaskMetrics | undefined;
  /** Where the task stamps each synchronous call into its steps, for the watchdog. */
  readonly stamp: StepStamp;
  /**
   * The previous attempt failed because a step of this task did not return (STEP_STUCK):
   * until a checkpoint completes, the task hands its chain one record at a time, so that
   * should it be stuck again, the watchdog's log line shows the very record (the preview is
   * of a batch's first record). A checkpoint that completes means it got past the records
   * it replays, and batches are whole again.
   */
  protected diagnosing: boolean;

  constructor(spec: TaskSpec) {
    this.node = spec.node;
    this.name = spec.node.name;
    this.stamp = new StepStamp(spec.stamps, spec.node.id * WORDS_PER_TASK);
    this.diagnosing = spec.diagnose === true;
    // As Flink's StreamTask makes its OperatorChain: the operators' runtime defers work and schedules timers on this task.
    this.chain = new OperatorChain(spec, this);
    this.subtask = this.chain.subtask;
    this.operators = this.chain.operators;
    this.channelOutputs = this.chain.channelOutputs;
    this.clock = spec.config.clock;
    this.backpressure = spec.backpressure;
    this.yieldIntervalMs = spec.yieldIntervalMs;
    this.onFailure = spec.onFailure;
    this.checkpointing = spec.checkpointing;
    this.metrics = spec.config.metrics?.task(this.name, spec.stepMetrics!, spec.node.index);
  }

  /** Runs the task to its end. Rejects with the task's failure. */
  async run(): Promise<void> {
    try {
      // Open downstream first, as Flink does: an operator may emit while it opens. Only the
      // synchronous part of open() is stamped: awaiting a connection is not being stuck.
      for (let i = this.operators.length - 1; i >= 0; i--) {
        this.stamp.enter(this.chain.positions[i]!, WHAT.open, 0);
        const opening = this.operators[i]!.open();
        this.stamp.leave();
        await opening;
      }
      await this.loop();
      await this.drain();
      this.throwIfFailed();
      this.markConsumed();
      await this.finish();
      await this.drain();
      this.throwIfFailed();
    } catch (e) {
      this.fail(e);
      throw this.error;
    } finally {
      this.stamp.reset(); // a call that threw is over
      this.markConsumed();
      await this.close();
    }
  }

  private markConsumed!: () => void;
  /**
   * Resolves once the task has handled all its input (before the final checkpoint), or has
   * stopped: from then on it sends nothing more downstream, dead letters included.
   */
  readonly consumed = new Promise<void>((resolve) => {
    this.markConsumed = resolve;
  });

  protected abstract loop(): Promise<void>;

  /** How this task's steps are named in a checkpoint: in parallel, each state says whose it is. */
  protected stepState(kind: string, state: unknown): TaskStepState {
    const { index, parallelism } = this.subtask;
    return parallelism > 1 ? { kind, version: 1, state, subtask: { index, parallelism } } : { kind, version: 1, state };
  }

  /**
   * Snapshots every step of the chain for checkpoint `id` (the barrier has reached the
   * head, and the chain is synchronous, so every step has handled exactly the records
   * before it), sends the barrier on, and acknowledges.
   */
  protected async checkpoint(id: number, alignmentMs: number): Promise<void> {
    const steps = await this.snapshotSteps(id);
    for (const output of this.channelOutputs) output.emitBarrier(id);
    this.releaseHeld();
    this.acknowledgeWhenWritten(id, steps, alignmentMs);
  }

  /**
   * Acknowledges checkpoint `id` at once, or, when steps copied state at the barrier that
   * is still being written ({@link ackAfter}), once it is: the task goes on meanwhile. A
   * write that fails fails the task, as a snapshot that throws does.
   */
  protected acknowledgeWhenWritten(id: number, steps: Record<string, TaskStepState>, alignmentMs: number): void {
    const writes = this.takeAckWaits();
    if (writes === undefined) return this.acknowledge(id, steps, alignmentMs);
    this.acking = writes.then(
      () => {
        if (!this.stopped) this.acknowledge(id, steps, alignmentMs);
      },
      (e: unknown) => {
        if (!this.stopped) this.fail(e); // a stopped task's files may be gone with its job: not a failure
      },
    );
  }

  /** Settles once the last acknowledgement waiting for writes has been given (or the task failed). */
  private acking: Promise<void> = Promise.resolve();

  private ackWaits: Array<Promise<unknown>> = [];

  ackAfter(work: Promise<unknown>): void {
    this.ackWaits.push(work);
  }

  /** What the acknowledgement of the snapshot just taken waits for; undefined when nothing. */
  protected takeAckWaits(): Promise<unknown> | undefined {
    if (this.ackWaits.length === 0) return undefined;
    const all = Promise.all(this.ackWaits);
    this.ackWaits = [];
    return all;
  }

  /** Tells the job that this task has snapshot its steps for checkpoint `id`. */
  protected acknowledge(id: number, steps: Record<string, TaskStepState>, alignmentMs: number): void {
    this.lastAcknowledged = id;
    this.checkpointing?.acknowledge(id, this.name, steps, alignmentMs);
  }

  /**
   * What checkpoint `id`, now durable, covers of this task: itself; or, once the task has
   * handed its final state over, everything (`Number.MAX_SAFE_INTEGER`, as the final
   * checkpoint) when `id` came after that: the coordinator acknowledged it with the final
   * state. So a task that finished while others read on (a drained HTTP source beside
   * Kafka) has its sinks commit their last transaction with the next checkpoint, not only
   * when the whole job ends (`test/cli/graceful-stop.test.ts`).
   */
  protected covered(id: number): number {
    return this.finalAfter !== undefined && id > this.finalAfter ? Number.MAX_SAFE_INTEGER : id;
  }

  protected async snapshotSteps(id: number): Promise<Record<string, TaskStepState>> {
    const steps: Record<string, TaskStepState> = {};
    this.holding = true; // released by the caller once the barrier has gone (releaseHeld)
    // In chain order: what one step sends on before the barrier reaches the next ones.
    for (const operator of this.operators) operator.prepareSnapshotPreBarrier(id);
    for (const operator of this.operators) {
      const state = await operator.snapshotState(id);
      if (state !== undefined) steps[operator.uid] = this.stepState(operator.kind, state);
    }
    return steps;
  }

  /** Checkpoint `id` is durable: steps may publish what it covers (sinks commit). */
  notifyCheckpointComplete(id: number): void {
    this.diagnosing = false;
    const covered = this.covered(id);
    for (const operator of this.operators) {
      // Called from the coordinator (or a worker's message handler), outside the task's
      // loop: a throw fails the task rather than escape as an uncaught exception.
      try {
        const r = operator.notifyCheckpointComplete(covered);
        if (r) this.commit(r);
      } catch (e) {
        this.fail(e);
      }
    }
  }

  /**
   * Work that commits a durable checkpoint (a sink's commit): deferred, and awaited before
   * the task closes its steps even when it was stopped, so that a job stopped right after
   * a checkpoint completes has its output committed, not cut off mid-commit.
   */
  protected commit(work: Promise<unknown>): void {
    this.defer(work);
    const settled = work.then(
      () => {},
      () => {},
    );
    this.commits.add(settled);
    void settled.then(() => this.commits.delete(settled));
  }

  /** After the last input: hand the final state to the job and wait for its final checkpoint. */
  private async finish(): Promise<void> {
    if (!this.checkpointing || this.stopped) return;
    await this.acking; // the final state comes after every checkpoint acknowledged before it
    const steps = await this.finalSteps();
    this.releaseHeld();
    this.finalAfter = this.lastAcknowledged;
    const finalId = await this.untilStopped(this.checkpointing.finished(this.name, steps));
    if (finalId === undefined || this.stopped) return;
    // The final checkpoint covers all that was pre-committed, whatever id it was taken under.
    await this.notifyFinalCheckpoint();
  }

  /** The job's final checkpoint is durable: everything is safe. */
  protected async notifyFinalCheckpoint(): Promise<void> {
    for (const operator of this.operators) await operator.notifyCheckpointComplete(Number.MAX_SAFE_INTEGER);
  }

  /** The task's state once all input is consumed. */
  protected async finalSteps(): Promise<Record<string, TaskStepState>> {
    const steps = await this.snapshotSteps(Number.MAX_SAFE_INTEGER);
    await this.takeAckWaits();
    return steps;
  }

  /** Stops the task: the loop ends at its next step. */
  stop(): void {
    this.stopped = true;
    for (const output of this.channelOutputs) output.channel.release();
    for (const wake of [...this.stopWaiters]) wake();
  }

  /**
   * Waits for `work`, or until the task stops (then resolves undefined), so that nothing
   * hangs on stop. Unlike a race with a long-lived promise, it keeps no reference to
   * `work`'s result once settled (a race would keep every batch alive: see the bench notes).
   */
  protected untilStopped<R>(work: Promise<R>): Promise<R | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise<R | undefined>((resolve, reject) => {
      const wake = () => resolve(undefined);
      this.stopWaiters.add(wake);
      work.then(
        (v) => {
          this.stopWaiters.delete(wake);
          resolve(v);
        },
        (e: unknown) => {
          this.stopWaiters.delete(wake);
          reject(e);
        },
      );
    });
  }

  fail(error: unknown): void {
    if (this.error === undefined) {
      this.error = error;
      this.onFailure(error);
    }
    this.stop();
  }

  defer(work: Promise<unknown>): void {
    this.deferred.push(work.catch((e: unknown) => this.fail(e)));
  }

  /**
   * A clock callback run inside the task, for step `step` (its chain position), as
   * {@link runInTask} runs callbacks: never between a snapshot and its barrier; a throw
   * fails the task.
   */
  schedule(at: number, callback: () => void, step = 0): () => void {
    const run = () => {
      this.scheduled.delete(cancel);
      if (this.stopped) return;
      this.metrics?.control();
      this.runInTask(callback, step, WHAT.timer);
    };
    const cancelClock = this.clock.schedule(at, run);
    const cancel = () => {
      cancelClock();
      this.scheduled.delete(cancel);
    };
    this.scheduled.add(cancel);
    return cancel;
  }

  /**
   * Runs `callback` inside the task, for step `step` (its chain position): at once, unless
   * the task is between a snapshot and its barrier, then right after the barrier. A throw
   * fails the task. Async operators hand their results over this way (Flink's mailbox);
   * processing-time timers run this way too (`what`: the watchdog's name of the call).
   */
  runInTask(callback: () => void, step = 0, what: number = WHAT.completion): void {
    if (this.stopped) return;
    if (this.holding) {
      this.held.push(() => this.runInTask(callback, step, what));
      return;
    }
    this.stamp.enter(step, what, 0);
    try {
      callback();
    } catch (e) {
      this.fail(e);
    } finally {
      this.stamp.leave();
    }
  }

  /** The barrier has gone: run what {@link runInTask} held meanwhile, in order. */
  protected releaseHeld(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const run of held) run();
  }

  protected throwIfFailed(): void {
    if (this.error !== undefined) throw this.error;
  }

  /** Waits for deferred writes and for room in every output. */
  protected async drain(): Promise<void> {
    const m = this.metrics;
    while (this.deferred.length > 0) {
      const d = this.deferred;
      this.deferred = [];
      const t = m ? performance.now() : 0;
      await this.untilStopped(Promise.all(d));
      if (m) m.busyMs += performance.now() - t; // a sink's write in flight is work, not backpressure
    }
    for (const output of this.channelOutputs) {
      if (output.channel.isFull && !this.stopped) await this.backpressured(output.channel.writable());
    }
    for (const b of this.backpressure) {
      if (b.isFull && !this.stopped) await this.backpressured(b.writable());
    }
    // Batches that never wait would keep the event loop from timers and I/O: yield now and then.
    const now = performance.now();
    if (now - this.lastYield > this.yieldIntervalMs) {
      this.lastYield = now;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Waits for room downstream, counting the time as backpressure. */
  private async backpressured(room: Promise<void>): Promise<void> {
    const m = this.metrics;
    if (!m) return void (await this.untilStopped(room));
    const t = performance.now();
    await this.untilStopped(room);
    m.backpressuredMs += performance.now() - t;
  }

  protected flushChannelOutputs(): void {
    for (const output of this.channelOutputs) output.flush();
  }

  private async close(): Promise<void> {
    for (const cancel of [...this.scheduled]) cancel();
    for (const output of this.channelOutputs) output.dispose();
    await Promise.all([...this.commits]);
    for (const operator of this.operators) {
      try {
        await operator.close();
      } catch (e) {
        if (this.error === undefined) this.fail(e);
      }
    }
    await this.closeInputs();
  }

  protected async closeInputs(): Promise<void> {}
}
