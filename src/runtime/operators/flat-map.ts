import { BatchBuilder, type Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** One record in, any number out (an array or any iterable); each output keeps the input's timestamp. */
export class FlatMapOperator<I, O> extends Operator<I, O> {
  constructor(private readonly userFunction: (value: I) => Iterable<O>) {
    super();
  }
  /** Runs fused with its neighbours in a chain (`fused-output.ts`). */
  get fusion() {
    return { kind: 'flatMap' as const, fn: this.userFunction as (value: unknown) => unknown };
  }
  processBatch(batch: Batch<I>): void {
    const { values, timestamps } = batch;
    const b = new BatchBuilder<O>();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const timestamp = timestamps[i]!;
      try {
        const result = this.userFunction(v);
        if (Array.isArray(result)) for (let j = 0; j < result.length; j++) b.push(result[j], timestamp);
        else for (const r of result) b.push(r, timestamp);
      } catch (error) {
        this.runtime.userError(error, v, timestamp, 'flatMap function');
      }
    }
    if (b.length > 0) this.out.main.emitBatch(b.take());
  }
}
