import type { StepState } from '../checkpoint/types.js';
import { partsOf } from '../checkpoint/step-parts.js';
import type { Source, SourceContext, SourceReader } from '../connectors/source.js';
import { SluiceError } from '../errors/index.js';
import { MAX_WATERMARK, NO_TIMESTAMP, type Batch } from './batch.js';
import type { SubtaskInfo } from './operator.js';
import type { OperatorOutputs } from './output.js';
import { Task, type TaskSpec, type TaskStepState } from './task.js';
import { LoadShedder } from './load-shedder.js';
import { WHAT } from './watchdog/step-stamps.js';

/** The state a source step has in a checkpoint. */
export interface SourceStepState {
  /** The reader's position (undefined for a reader that cannot tell one). */
  readonly position?: unknown;
  /** The source had ended: on restore it does not read again. */
  readonly finished?: boolean;
}

/** A source task's spec: the abort signal its reader watches is the deployment's. */
export interface SourceTaskSpec extends TaskSpec {
  readonly signal: AbortSignal;
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

/** Reads a source and pushes what it reads through the chain (the source is the chain's head step). */
export class SourceTask<T> extends Task {
  private reader: SourceReader<T> | undefined;
  private sourceWatermark = Number.NEGATIVE_INFINITY;
  private barrierRequested: number | undefined;
  /** The source step's uid (its position is stored under it). */
  readonly uid: string;
  private readonly source: Source<T>;
  private readonly createReader: () => SourceReader<T>;
  private readonly outputs: OperatorOutputs<T>;
  /** Restored from a checkpoint in which this source had already ended. */
  private readonly restoredFinished: boolean;
  /** Its source was stopped (`stopSource`): its input ends, but the medium's has not. */
  private drained = false;
  /** The source's load shedding, when it has one. */
  private readonly shedder: LoadShedder<T> | undefined;
  private readonly shedTo: string | undefined;

  constructor(spec: SourceTaskSpec) {
    super(spec);
    const head = spec.node.chain.nodes[0]!;
    const source = head.source as Source<T>;
    this.uid = head.uid;
    this.source = source;
    this.outputs = this.chain.headOutputs as OperatorOutputs<T>;
    const position = restoredPosition(head.uid, source, spec.restored[head.uid], this.subtask);
    this.restoredFinished = position?.finished === true;
    const context: SourceContext = {
      uid: head.uid,
      subtask: { index: this.subtask.index, parallelism: this.subtask.parallelism },
      clock: spec.config.clock,
      maxBatchSize: spec.config.batchSize,
      maxPollWaitMs: spec.config.maxPollWaitMs,
      signal: spec.signal,
      badRecord: this.chain.badRecordHandler(),
      restoredPosition: position?.position,
    };
    this.createReader = () => source.createReader(context);
    this.shedder = head.shed ? new LoadShedder<T>(head.shed, head.uid) : undefined;
    this.shedTo = head.shed?.sideOutput;
  }

  /**
   * Stops the source (`Source.stop`, when it has one: HTTP ingest takes no new input and
   * ends once it has handed out what it accepted). Returns whether it could. A stopped
   * source's final state is its position, not 'finished': restored, it reads again (its
   * medium did not end; the job was stopped).
   */
  stopSource(): boolean {
    if (this.source.stop === undefined) return false;
    this.drained = true;
    this.source.stop();
    return true;
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
    for (const output of this.channelOutputs) output.emitBarrier(id);
    this.releaseHeld();
    this.acknowledgeWhenWritten(id, steps, 0);
  }

  protected override async finalSteps(): Promise<Record<string, TaskStepState>> {
    const steps = await super.finalSteps();
    // A split-based source keeps its position: should the checkpoint restore at another
    // parallelism, its splits may go to readers that have not finished them.
    if (this.drained) {
      steps[this.uid] = this.stepState('source', { position: this.reader?.snapshotPosition?.(Number.MAX_SAFE_INTEGER) } satisfies SourceStepState);
      return steps;
    }
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
    const stamp = this.stamp;
    const shedder = this.shedder;
    const clock = this.clock;
    if (shedder?.needsBacklog && !reader.backlog) {
      throw new SluiceError('INVALID_ARGUMENT', `source '${this.uid}' (${this.source.kind}) cannot tell its backlog, which its shed.when.backlog needs`, {
        step: this.uid,
        hint: 'Shed on `when.latency` instead, or use a source whose reader has backlog().',
      });
    }
    if (shedder && m?.steps[0]) m.steps[0].overloaded = false;
    /** How long the pipeline took to take the last batch (on the job's clock): a load shedding signal. */
    let latencyMs = 0;
    if (m && reader.backlog && m.steps[0]) {
      // Read by the metrics sampler's timer, outside this task: a throw fails the task.
      m.steps[0].backlog = () => {
        try {
          return reader.backlog!();
        } catch (e) {
          this.fail(sourceError(this.uid, this.source.kind, e));
          return undefined;
        }
      };
    }
    for (;;) {
      if (this.stopped) return;
      await this.injectPendingBarrier();
      let polled;
      const t0 = m ? performance.now() : 0;
      try {
        // The synchronous part of poll() runs the source's code (a generator's make()): stamped.
        stamp.enter(0, WHAT.poll, 0);
        const polling = reader.poll();
        stamp.leave();
        polled = await this.untilStopped(polling);
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
      const handedAt = shedder ? clock.now() : 0;
      if (n > 0) {
        let batch: Batch<T> = { values: polled.values, timestamps: polled.timestamps ?? noTimestamps(n) };
        if (shedder) batch = this.shed(shedder, batch, reader, latencyMs);
        const kept = batch.values.length;
        if (kept === 0) {
          // All shed: nothing to hand on.
        } else if (this.diagnosing && kept > 1) {
          // One record at a time (see Task.diagnosing).
          for (let i = 0; i < kept; i++) {
            const one: Batch<T> = { values: [batch.values[i]!], timestamps: [batch.timestamps[i]!] };
            stamp.enterBatch(0, one.values);
            main.emitBatch(one);
            stamp.leave();
          }
        } else {
          stamp.enterBatch(0, batch.values);
          main.emitBatch(batch);
          stamp.leave();
        }
      } else {
        this.flushChannelOutputs(); // nothing new: let gathered records go
      }
      if (polled.watermark !== undefined && polled.watermark > this.sourceWatermark) {
        this.sourceWatermark = polled.watermark;
        stamp.enter(0, WHAT.watermark, 0);
        this.outputs.watermark(polled.watermark);
        stamp.leave();
      }
      if (polled.done) {
        stamp.enter(0, WHAT.end, 0);
        this.outputs.watermark(MAX_WATERMARK);
        this.outputs.end();
        stamp.leave();
        return;
      }
      if (m) m.processed(t1);
      await this.drain();
      if (shedder) latencyMs = clock.now() - handedAt;
      this.throwIfFailed();
    }
  }

  /** What goes on of a batch: all of it, unless the source is overloaded; then the shed records are counted and sent to the side output. */
  private shed(shedder: LoadShedder<T>, batch: Batch<T>, reader: SourceReader<T>, latencyMs: number): Batch<T> {
    const stepMetrics = this.metrics?.steps[0];
    const overloaded = shedder.check(reader.backlog?.(), latencyMs);
    if (stepMetrics) stepMetrics.overloaded = overloaded;
    if (!overloaded) return batch;
    const { kept, shed } = shedder.split(batch);
    if (shed) {
      if (stepMetrics) stepMetrics.shed += shed.values.length;
      if (this.shedTo !== undefined) this.outputs.side(this.shedTo).emitBatch(shed as Batch<unknown>);
    }
    return kept;
  }

  override notifyCheckpointComplete(id: number): void {
    super.notifyCheckpointComplete(id);
    try {
      const r = this.reader?.notifyCheckpointComplete?.(this.covered(id));
      if (r) this.commit(r);
    } catch (e) {
      this.fail(e); // outside the task's loop, as in Task.notifyCheckpointComplete
    }
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

/**
 * A source subtask's restored position. At another parallelism, the source redistributes
 * its readers' positions (a split-based source), or none may move.
 */
function restoredPosition(uid: string, source: Source<unknown>, step: StepState | undefined, subtask: SubtaskInfo): SourceStepState | undefined {
  if (step === undefined) return undefined;
  const parts = partsOf(step) as Array<SourceStepState | undefined>;
  if (parts.length === subtask.parallelism) return parts[subtask.index];
  if (parts.every((p) => p?.finished === true)) return { finished: true };
  if (source.redistributePositions) {
    return { position: source.redistributePositions(parts.map((p) => p?.position), { index: subtask.index, parallelism: subtask.parallelism }) };
  }
  throw new SluiceError('STATE_RESCALE_UNSUPPORTED', `source '${uid}' ran with ${parts.length} readers and cannot resume its position with ${subtask.parallelism}`, {
    step: uid,
    hint: `Restore with parallelism ${parts.length} for this source.`,
  });
}
