import type { Batch } from './batch.js';
import { stepIn, type BatchContext, type StepMetrics } from '../observe/step-metrics.js';
import type { Operator } from './operator.js';
import type { Output } from './output.js';
import { STEP, type StepStamp } from './watchdog/step-stamps.js';

/**
 * Hands records to the next operator of the chain: a direct call, in the same task. It
 * stamps which step of the chain is being called, for the watchdog (`watchdog/`): two
 * Int32 stores a call.
 */
export class ChainedOutput<T> implements Output<T> {
  private readonly words: Int32Array;
  private readonly stepAt: number;

  constructor(
    private readonly operator: Operator<T, unknown>,
    stamp: StepStamp,
    /** The chain positions of the next step (called here) and of the step that emits into it. */
    private readonly step: number,
    private readonly from: number,
    /** With metrics on: the next step's counters, which count what it receives here. */
    private readonly metrics?: { step: StepMetrics; context: BatchContext },
  ) {
    this.words = stamp.words;
    this.stepAt = stamp.at + STEP;
  }
  emitBatch(batch: Batch<T>): void {
    const n = batch.values.length;
    if (n === 0) return;
    if (this.metrics) stepIn(this.metrics.step, n, this.metrics.context);
    this.words[this.stepAt] = this.step;
    this.operator.processBatch(batch, 0);
    this.words[this.stepAt] = this.from;
  }
  emitWatermark(watermark: number): void {
    this.words[this.stepAt] = this.step;
    this.operator.processWatermark(watermark);
    this.words[this.stepAt] = this.from;
  }
  emitIdle(idle: boolean): void {
    this.words[this.stepAt] = this.step;
    this.operator.processIdle(idle);
    this.words[this.stepAt] = this.from;
  }
  emitEnd(): void {
    this.words[this.stepAt] = this.step;
    this.operator.endInput();
    this.words[this.stepAt] = this.from;
  }
}
