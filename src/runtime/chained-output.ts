import type { Batch } from './batch.js';
import { stepIn, type BatchContext, type StepMetrics } from '../observe/step-metrics.js';
import type { Operator } from './operator.js';
import type { Output } from './output.js';

/** Hands records to the next operator of the chain: a direct call, in the same task. */
export class ChainedOutput<T> implements Output<T> {
  constructor(
    private readonly operator: Operator<T, unknown>,
    /** With metrics on: the next step's counters, which count what it receives here. */
    private readonly metrics?: { step: StepMetrics; context: BatchContext },
  ) {}
  emitBatch(batch: Batch<T>): void {
    const n = batch.values.length;
    if (n === 0) return;
    if (this.metrics) stepIn(this.metrics.step, n, this.metrics.context);
    this.operator.processBatch(batch, 0);
  }
  emitWatermark(watermark: number): void {
    this.operator.processWatermark(watermark);
  }
  emitIdle(idle: boolean): void {
    this.operator.processIdle(idle);
  }
  emitEnd(): void {
    this.operator.endInput();
  }
}
