import type { Sink, SinkWriter } from '../../connectors/sink.js';
import { SluiceError } from '../../errors/index.js';
import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** Hands batches to a {@link SinkWriter}; a write that returns a promise holds the task until it settles (backpressure). */
export class SinkOperator<T> extends Operator<T, never> {
  private writer!: SinkWriter<T>;
  private opened = false;

  constructor(private readonly sink: Sink<T>) {
    super();
  }
  override async open(): Promise<void> {
    this.writer = this.sink.createWriter({ uid: this.rt.uid, clock: this.rt.clock });
    await this.writer.open?.();
    this.opened = true;
  }
  processBatch(batch: Batch<T>): void {
    let pending: void | Promise<void>;
    try {
      pending = this.writer.write(batch.values, batch.timestamps);
    } catch (error) {
      throw this.failed(error);
    }
    if (pending) this.rt.defer(pending.catch((e: unknown) => Promise.reject(this.failed(e))));
  }
  override processWatermark(watermark: number): void {
    this.watermark = watermark;
  }
  override processIdle(): void {}
  override endInput(): void {
    if (this.writer.flush) this.rt.defer(this.writer.flush().catch((e: unknown) => Promise.reject(this.failed(e))));
  }
  override async close(): Promise<void> {
    if (this.opened) await this.writer.close();
  }
  private failed(error: unknown): SluiceError {
    if (error instanceof SluiceError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new SluiceError('SINK_FAILED', `step '${this.rt.uid}' (${this.sink.kind} sink) could not write: ${message}`, {
      step: this.rt.uid,
      cause: error,
    });
  }
}
