import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** Keeps the records for which the predicate holds. */
export class FilterOperator<T> extends Operator<T, T> {
  constructor(private readonly predicate: (value: T) => boolean) {
    super();
  }
  /** Runs fused with its neighbours in a chain (`fused-output.ts`). */
  get fusion() {
    return { kind: 'filter' as const, fn: this.predicate as (value: unknown) => unknown };
  }
  processBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const p = this.predicate;
    const n = values.length;
    // Written by index into arrays of the input's length, then cut: no regrowth per batch.
    const outV = new Array<T>(n);
    const outT = new Array<number>(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      let keep: boolean;
      try {
        keep = p(v);
      } catch (error) {
        this.runtime.userError(error, v, timestamps[i]!, 'filter predicate');
        continue;
      }
      if (keep) {
        outV[k] = v;
        outT[k++] = timestamps[i]!;
      }
    }
    if (k === n) this.out.main.emitBatch(batch);
    else if (k > 0) {
      outV.length = k;
      outT.length = k;
      this.out.main.emitBatch({ values: outV, timestamps: outT });
    }
  }
}
