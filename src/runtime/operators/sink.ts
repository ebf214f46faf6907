import type { Sink, SinkWriter } from '../../connectors/sink.js';
import { SluiceError } from '../../errors/index.js';
import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** A sink's state in a checkpoint: its transactions not yet committed. */
interface SinkState {
  readonly pending: Array<{ checkpointId: number; transaction: unknown }>;
}

/** Hands batches to a {@link SinkWriter}; a write that returns a promise holds the task until it settles (backpressure). */
export class SinkOperator<T> extends Operator<T, never> {
  private writer!: SinkWriter<T>;
  private opened = false;
  /** Transactions pre-committed at barriers and not yet committed, by checkpoint. */
  private pending: Array<{ checkpointId: number; transaction: unknown }> = [];
  private restored: SinkState | undefined;

  constructor(private readonly sink: Sink<T>) {
    super();
  }
  /** Exactly-once with checkpoints: the writer publishes only in commit. */
  private get transactional(): boolean {
    return this.runtime.exactlyOnce;
  }
  override initializeState(state: unknown): void {
    this.restored = state as SinkState;
  }
  /** Rescaling: subtask 0 recovers every old subtask's pending transactions (recovery commits idempotently). */
  override initializeStateParts(parts: readonly unknown[]): void {
    if (this.runtime.subtask.index !== 0) return;
    this.restored = { pending: parts.flatMap((p) => (p as SinkState | undefined)?.pending ?? []) };
  }
  override async open(): Promise<void> {
    const { index, parallelism } = this.runtime.subtask;
    this.writer = this.sink.createWriter({ uid: this.runtime.uid, subtask: { index, parallelism }, clock: this.runtime.clock, transactional: this.transactional, executionId: this.runtime.executionId });
    await this.writer.open?.();
    this.opened = true;
    if (this.writer.recover) {
      const restored = this.restored?.pending ?? [];
      await this.writer.recover(restored.map((p) => p.transaction)).catch((e: unknown) => Promise.reject(this.failed(e)));
    }
    this.restored = undefined;
  }
  override async snapshotState(checkpointId: number): Promise<SinkState | undefined> {
    if (!this.writer.preCommit) return undefined;
    let transaction: unknown;
    try {
      transaction = await this.writer.preCommit(checkpointId);
    } catch (e) {
      throw this.failed(e);
    }
    if (transaction !== undefined) this.pending.push({ checkpointId, transaction });
    return { pending: [...this.pending] };
  }
  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const ready = this.pending.filter((p) => p.checkpointId <= checkpointId);
    if (ready.length === 0 || !this.writer.commit) return;
    try {
      await this.writer.commit(ready.map((p) => p.transaction));
    } catch (e) {
      throw this.failed(e);
    }
    this.pending = this.pending.filter((p) => p.checkpointId > checkpointId);
  }
  processBatch(batch: Batch<T>): void {
    let pending: void | Promise<void>;
    try {
      pending = this.writer.write(batch.values, batch.timestamps);
    } catch (error) {
      throw this.failed(error);
    }
    if (pending) this.runtime.defer(pending.catch((e: unknown) => Promise.reject(this.failed(e))));
  }
  override processWatermark(watermark: number): void {
    this.watermark = watermark;
  }
  override processIdle(): void {}
  override endInput(): void {
    // Exactly-once: the rest is pre-committed with the final checkpoint and committed after it.
    if (this.transactional && this.writer.preCommit) return;
    if (this.writer.flush) this.runtime.defer(this.writer.flush().catch((e: unknown) => Promise.reject(this.failed(e))));
  }
  override async close(): Promise<void> {
    if (this.opened) await this.writer.close();
  }
  private failed(error: unknown): SluiceError {
    if (error instanceof SluiceError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new SluiceError('SINK_FAILED', `step '${this.runtime.uid}' (${this.sink.kind} sink) could not write: ${message}`, {
      step: this.runtime.uid,
      cause: error,
    });
  }
}
