import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** Keeps the records for which the predicate holds. */
export class FilterOperator<T> extends Operator<T, T> {
  constructor(private readonly predicate: (value: T) => boolean) {
    super();
  }
  processBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const p = this.predicate;
    const outV: T[] = [];
    const outT: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      let keep: boolean;
      try {
        keep = p(v);
      } catch (error) {
        this.rt.userError(error, v, timestamps[i]!, 'filter predicate');
        continue;
      }
      if (keep) {
        outV.push(v);
        outT.push(timestamps[i]!);
      }
    }
    if (outV.length === values.length) this.out.main.emitBatch(batch);
    else if (outV.length > 0) this.out.main.emitBatch({ values: outV, timestamps: outT });
  }
}
