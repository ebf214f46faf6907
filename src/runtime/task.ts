import type { Source, SourceReader } from '../connectors/source.js';
import { SluiceError } from '../errors/index.js';
import type { TaskMetrics } from '../observe/step-metrics.js';
import type { Clock } from '../time/clock.js';
import { MAX_WATERMARK, NO_TIMESTAMP, type Batch } from './batch.js';
import type { ChannelOutput } from './channel-output.js';
import type { InputGate } from './input-gate.js';
import type { Operator, SubtaskInfo } from './operator.js';
import type { StepNode } from '../plan/graph.js';
import type { OperatorOutputs } from './output.js';
import { WatermarkValve } from './watermark-valve.js';

/** A step's state in a checkpoint: see `checkpoint/types.ts`. */
export interface TaskStepState {
  readonly kind: string;
  readonly version: number;
  readonly state: unknown;
  /** Which subtask's state this is, for a step that runs in parallel (the coordinator gathers the parts). */
  readonly subtask?: { readonly index: number; readonly parallelism: number } | undefined;
}

/** How a task takes part in checkpoints (set by the executor when the job checkpoints). */
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

/** The state a source step has in a checkpoint. */
export interface SourceStepState {
  /** The reader's position (undefined for a reader that cannot tell one). */
  readonly position?: unknown;
  /** The source had ended: on restore it does not read again. */
  readonly finished?: boolean;
}

/** Something a task waits for before it takes more input (a full dead-letter queue, say). */
export interface Backpressure {
  readonly isFull: boolean;
  writable(): Promise<void>;
}

/**
 * A task runs a chain of operators on its own loop: take input, push it through the
 * chain, then wait until every output has room (backpressure) and every deferred write
 * has settled. Tasks of one process share the event loop; JavaScript runs one at a time,
 * so an operator is never entered twice at once.
 */
export abstract class Task {
  private deferred: Promise<unknown>[] = [];
  private scheduled = new Set<() => void>();
  protected error: unknown;
  /** Set when the task must stop early (failure here or elsewhere, or cancel). */
  protected stopped = false;
  private lastYield = performance.now();
  /**
   * How long the task may keep the event loop before it lets timers, I/O and messages
   * run. In a parallel run, input and credit from other threads arrive as messages:
   * another thread may be waiting on them, so the task yields more often.
   */
  yieldIntervalMs = 10;
  /** Waits to wake when the task stops (see `untilStopped`). */
  private readonly stopWaiters = new Set<() => void>();

  constructor(
    readonly name: string,
    /** The chain's operators, head first. */
    readonly operators: readonly Operator<any, any>[],
    readonly writers: readonly ChannelOutput<unknown>[],
    protected readonly clock: Clock,
    private readonly extraBackpressure: readonly Backpressure[],
    /** Reports a failure to the job as soon as it happens. */
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** Runs the task to its end. Rejects with the task's failure. */
  async run(): Promise<void> {
    try {
      // Open downstream first, as Flink does: an operator may emit while it opens.
      for (let i = this.operators.length - 1; i >= 0; i--) await this.operators[i]!.open();
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

  /** Set by the executor when the job checkpoints. */
  checkpointing: TaskCheckpointing | undefined;
  /** Set by the executor when the job counts metrics (busy, backpressured and idle time, records in). */
  metrics: TaskMetrics | undefined;
  /** Which subtask of its chain this task runs (set by the executor). */
  subtask: SubtaskInfo | undefined;
  /** The chain's first step (set by the executor). */
  head: StepNode | undefined;

  /** How this task's steps are named in a checkpoint: in parallel, each state says whose it is. */
  protected stepState(kind: string, state: unknown): TaskStepState {
    const s = this.subtask;
    return s && s.parallelism > 1 ? { kind, version: 1, state, subtask: { index: s.index, parallelism: s.parallelism } } : { kind, version: 1, state };
  }

  /**
   * Snapshots every step of the chain for checkpoint `id` (the barrier has reached the
   * head, and the chain is synchronous, so every step has handled exactly the records
   * before it), sends the barrier on, and acknowledges.
   */
  protected async checkpoint(id: number, alignmentMs: number): Promise<void> {
    const steps = await this.snapshotSteps(id);
    for (const w of this.writers) w.emitBarrier(id);
    this.checkpointing?.acknowledge(id, this.name, steps, alignmentMs);
  }

  protected async snapshotSteps(id: number): Promise<Record<string, TaskStepState>> {
    const steps: Record<string, TaskStepState> = {};
    // In chain order: what one step sends on before the barrier reaches the next ones.
    for (const op of this.operators) op.prepareSnapshotPreBarrier(id);
    for (const op of this.operators) {
      const state = await op.snapshotState(id);
      if (state !== undefined) steps[op.uid] = this.stepState(op.kind, state);
    }
    return steps;
  }

  /** Checkpoint `id` is durable: steps may publish what it covers (sinks commit). */
  notifyCheckpointComplete(id: number): void {
    for (const op of this.operators) {
      const r = op.notifyCheckpointComplete(id);
      if (r) this.defer(r);
    }
  }

  /** After the last input: hand the final state to the job and wait for its final checkpoint. */
  private async finish(): Promise<void> {
    if (!this.checkpointing || this.stopped) return;
    const finalId = await this.untilStopped(this.checkpointing.finished(this.name, await this.finalSteps()));
    if (finalId === undefined || this.stopped) return;
    // The final checkpoint covers all that was pre-committed, whatever id it was taken under.
    await this.notifyFinalCheckpoint();
  }

  /** The job's final checkpoint is durable: everything is safe. */
  protected async notifyFinalCheckpoint(): Promise<void> {
    for (const op of this.operators) await op.notifyCheckpointComplete(Number.MAX_SAFE_INTEGER);
  }

  /** The task's state once all input is consumed. */
  protected finalSteps(): Promise<Record<string, TaskStepState>> {
    return this.snapshotSteps(Number.MAX_SAFE_INTEGER);
  }

  /** Stops the task: the loop ends at its next step. */
  stop(): void {
    this.stopped = true;
    for (const w of this.writers) w.channel.release();
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

  /** A clock callback run inside the task: a throw fails the task. */
  schedule(at: number, callback: () => void): () => void {
    const run = () => {
      this.scheduled.delete(cancel);
      if (this.stopped) return;
      this.metrics?.control();
      try {
        callback();
      } catch (e) {
        this.fail(e);
      }
    };
    const cancelClock = this.clock.schedule(at, run);
    const cancel = () => {
      cancelClock();
      this.scheduled.delete(cancel);
    };
    this.scheduled.add(cancel);
    return cancel;
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
    for (const w of this.writers) {
      if (w.channel.isFull && !this.stopped) await this.backpressured(w.channel.writable());
    }
    for (const b of this.extraBackpressure) {
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

  protected flushWriters(): void {
    for (const w of this.writers) w.flush();
  }

  private async close(): Promise<void> {
    for (const cancel of [...this.scheduled]) cancel();
    for (const w of this.writers) w.dispose();
    for (const op of this.operators) {
      try {
        await op.close();
      } catch (e) {
        if (this.error === undefined) this.fail(e);
      }
    }
    await this.closeInputs();
  }

  protected async closeInputs(): Promise<void> {}
}

const nanArrays = new Map<number, number[]>();
/** A shared array of n NaN timestamps (batches are never mutated, so sharing is safe). */
function noTimestamps(n: number): number[] {
  let a = nanArrays.get(n);
  if (a === undefined) {
    a = new Array<number>(n).fill(NO_TIMESTAMP);
    if (nanArrays.size < 64) nanArrays.set(n, a);
  }
  return a;
}

/** Reads a source and pushes what it reads through the chain. */
export class SourceTask<T> extends Task {
  private reader: SourceReader<T> | undefined;
  private sourceWatermark = Number.NEGATIVE_INFINITY;
  private barrierRequested: number | undefined;
  private ended = false;
  /** Set when restoring from a checkpoint in which this source had already ended. */
  restoredFinished = false;

  constructor(
    name: string,
    /** The source step's uid (its position is stored under it). */
    readonly uid: string,
    private readonly source: Source<T>,
    private readonly createReader: () => SourceReader<T>,
    private readonly outputs: OperatorOutputs<T>,
    operators: readonly Operator<any, any>[],
    writers: readonly ChannelOutput<unknown>[],
    clock: Clock,
    extraBackpressure: readonly Backpressure[],
    onFailure: (error: unknown) => void,
  ) {
    super(name, operators, writers, clock, extraBackpressure, onFailure);
  }

  /** Asks the source to inject barrier `id` after the records it has read so far. */
  injectBarrier(id: number): void {
    this.barrierRequested = id;
  }

  private async injectPendingBarrier(): Promise<void> {
    const id = this.barrierRequested;
    if (id === undefined) return;
    this.barrierRequested = undefined;
    const steps = await this.snapshotSteps(id);
    const source: SourceStepState = { position: this.reader?.snapshotPosition?.(id) };
    steps[this.uid] = this.stepState('source', source);
    for (const w of this.writers) w.emitBarrier(id);
    this.checkpointing?.acknowledge(id, this.name, steps, 0);
  }

  protected override async finalSteps(): Promise<Record<string, TaskStepState>> {
    const steps = await super.finalSteps();
    // A split-based source keeps its position: should the checkpoint restore at another
    // parallelism, its splits may go to readers that have not finished them.
    const position = this.source.redistributePositions ? this.reader?.snapshotPosition?.(Number.MAX_SAFE_INTEGER) : undefined;
    const source: SourceStepState = position === undefined ? { finished: true } : { finished: true, position };
    steps[this.uid] = this.stepState('source', source);
    return steps;
  }

  protected async loop(): Promise<void> {
    if (this.restoredFinished) {
      // It had ended before the checkpoint: everything it read is in downstream state.
      this.outputs.watermark(MAX_WATERMARK);
      this.outputs.end();
      return;
    }
    const reader = (this.reader = this.createReader());
    try {
      await reader.open?.();
    } catch (e) {
      throw sourceError(this.uid, this.source.kind, e);
    }
    const main = this.outputs.main;
    const m = this.metrics;
    if (m && reader.backlog && m.steps[0]) m.steps[0].backlog = () => reader.backlog!();
    for (;;) {
      if (this.stopped) return;
      await this.injectPendingBarrier();
      let polled;
      const t0 = m ? performance.now() : 0;
      try {
        polled = await this.untilStopped(reader.poll());
      } catch (e) {
        throw sourceError(this.uid, this.source.kind, e);
      }
      if (this.stopped || polled === undefined) return;
      const n = polled.values.length;
      if (m) {
        m.idleMs += performance.now() - t0; // waiting on the medium is waiting for input
        m.sourceRead();
      }
      const t1 = m ? performance.now() : 0;
      if (n > 0) {
        const batch: Batch<T> = { values: polled.values, timestamps: polled.timestamps ?? noTimestamps(n) };
        main.emitBatch(batch);
      } else {
        this.flushWriters(); // nothing new: let gathered records go
      }
      if (polled.watermark !== undefined && polled.watermark > this.sourceWatermark) {
        this.sourceWatermark = polled.watermark;
        this.outputs.watermark(polled.watermark);
      }
      if (polled.done) {
        this.outputs.watermark(MAX_WATERMARK);
        this.outputs.end();
        return;
      }
      if (m) m.processed(t1);
      await this.drain();
      this.throwIfFailed();
    }
  }

  override notifyCheckpointComplete(id: number): void {
    super.notifyCheckpointComplete(id);
    const r = this.reader?.notifyCheckpointComplete?.(id);
    if (r) this.defer(r);
  }

  protected override async notifyFinalCheckpoint(): Promise<void> {
    await super.notifyFinalCheckpoint();
    await this.reader?.notifyCheckpointComplete?.(Number.MAX_SAFE_INTEGER);
  }

  protected override async closeInputs(): Promise<void> {
    await this.reader?.close();
  }
}

function sourceError(step: string, kind: string, e: unknown): unknown {
  if (e instanceof SluiceError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SluiceError('SOURCE_FAILED', `step '${step}' (${kind} source) failed: ${message}`, { step, cause: e });
}

/** Takes events from its input channels and drives the head of its chain. */
export class StreamTask extends Task {
  private readonly valve: WatermarkValve;
  /** The checkpoint whose barriers are being aligned, and since when. */
  private aligning: number | undefined;
  private alignStart = 0;
  private readonly ended: boolean[];

  constructor(
    name: string,
    private readonly gate: InputGate,
    operators: readonly Operator<any, any>[],
    writers: readonly ChannelOutput<unknown>[],
    clock: Clock,
    extraBackpressure: readonly Backpressure[],
    onFailure: (error: unknown) => void,
  ) {
    super(name, operators, writers, clock, extraBackpressure, onFailure);
    this.valve = new WatermarkValve(gate.inputs.length);
    this.ended = gate.inputs.map(() => false);
  }

  /**
   * A barrier from channel `c`: hold that channel back until every other open channel
   * has delivered the same barrier (aligned checkpoints), then snapshot and go on.
   */
  private async onBarrier(c: number, id: number): Promise<void> {
    if (this.aligning !== undefined && id < this.aligning) return; // a barrier of a checkpoint given up
    if (this.aligning === undefined || id > this.aligning) {
      this.gate.unblockAll();
      this.aligning = id;
      this.alignStart = performance.now();
    }
    this.gate.block(c);
    await this.completeAlignment();
  }

  /** Finishes the alignment once every channel has delivered the barrier or ended. */
  private async completeAlignment(): Promise<void> {
    const id = this.aligning;
    if (id === undefined) return;
    for (let c = 0; c < this.ended.length; c++) if (!this.ended[c] && !this.gate.isBlocked(c)) return;
    this.aligning = undefined;
    await this.checkpoint(id, performance.now() - this.alignStart);
    this.gate.unblockAll();
  }

  override stop(): void {
    super.stop();
    this.gate.wake();
  }

  protected async loop(): Promise<void> {
    const head = this.operators[0]!;
    const inputs = this.gate.inputs;
    let open = inputs.length;
    while (open > 0) {
      if (this.stopped) return;
      const next = this.gate.poll();
      const m = this.metrics;
      if (next === undefined) {
        this.flushWriters();
        const t = m ? performance.now() : 0;
        await this.gate.waitForData();
        if (m) m.idleMs += performance.now() - t;
        continue;
      }
      const { event, channel } = next;
      const t0 = m ? performance.now() : 0;
      if (m) {
        if (event.kind === 'batch') m.batchIn(event.batch.values.length, event.readAt, event.traceId);
        else m.control();
      }
      switch (event.kind) {
        case 'batch':
          head.processBatch(event.batch, inputs[channel]!.input);
          break;
        case 'watermark': {
          const wasIdle = this.valve.isIdle;
          this.advance(head, this.valve.watermark(channel, event.watermark));
          this.reportIdle(head, wasIdle);
          break;
        }
        case 'idle': {
          const wasIdle = this.valve.isIdle;
          this.advance(head, this.valve.setIdle(channel, event.idle));
          this.reportIdle(head, wasIdle);
          break;
        }
        case 'barrier':
          await this.onBarrier(channel, event.checkpointId);
          break;
        case 'end': {
          open--;
          this.ended[channel] = true;
          if (open > 0) await this.completeAlignment();
          const wasIdle = this.valve.isIdle;
          this.advance(head, this.valve.end(channel));
          this.reportIdle(head, wasIdle);
          if (open === 0) head.endInput();
          break;
        }
      }
      if (m) m.processed(t0);
      await this.drain();
      this.throwIfFailed();
    }
  }

  private advance(head: Operator<any, any>, watermark: number | undefined): void {
    if (watermark !== undefined) head.processWatermark(watermark);
  }

  /** Tells the chain when the task turns idle or active: any event may do it (an input that ends while the others are idle, say). */
  private reportIdle(head: Operator<any, any>, wasIdle: boolean): void {
    if (this.valve.isIdle !== wasIdle) head.processIdle(this.valve.isIdle);
  }
}
