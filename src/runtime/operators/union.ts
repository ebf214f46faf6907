import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** Merges several inputs of one type; the task's valve has already combined their watermarks. */
export class UnionOperator<T> extends Operator<T, T> {
  processBatch(batch: Batch<T>): void {
    this.out.main.emitBatch(batch);
  }
}
