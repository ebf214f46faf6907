import type { StepMetrics } from '../observe/step-metrics.js';
import type { Batch } from './batch.js';
import type { Output } from './output.js';

/**
 * Counts what a step emits (records per batch, the watermark) and passes it on. Used
 * only when the job counts metrics; one addition per batch. See `metrics.test.ts`.
 */
export class MeteredOutput<T> implements Output<T> {
  constructor(
    private readonly inner: Output<T>,
    private readonly step: StepMetrics,
    /** A source step: what it emits is what it read, so it counts as records in too. */
    private readonly countIn: boolean,
  ) {}
  emitBatch(batch: Batch<T>): void {
    const n = batch.values.length;
    this.step.recordsOut += n;
    if (this.countIn) this.step.recordsIn += n;
    this.inner.emitBatch(batch);
  }
  emitWatermark(watermark: number): void {
    if (watermark > this.step.watermarkOut) this.step.watermarkOut = watermark;
    this.inner.emitWatermark(watermark);
  }
  emitIdle(idle: boolean): void {
    this.inner.emitIdle(idle);
  }
  emitEnd(): void {
    this.inner.emitEnd();
  }
}
