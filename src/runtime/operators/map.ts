import { BatchBuilder, type Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** One record in, one out. The output batch shares the input's timestamps. */
export class MapOperator<I, O> extends Operator<I, O> {
  constructor(private readonly userFunction: (value: I) => O) {
    super();
  }
  /** Runs fused with its neighbours in a chain (`fused-output.ts`). */
  get fusion() {
    return { kind: 'map' as const, fn: this.userFunction as (value: unknown) => unknown };
  }
  processBatch(batch: Batch<I>): void {
    const { values, timestamps } = batch;
    const userFunction = this.userFunction;
    const n = values.length;
    const out = new Array<O>(n);
    let i = 0;
    try {
      for (; i < n; i++) out[i] = userFunction(values[i]!);
    } catch (error) {
      this.recover(batch, out, i, error);
      return;
    }
    this.out.main.emitBatch({ values: out, timestamps });
  }

  /** Slow path after a throw at record `failed`: report it, then go on record by record. */
  private recover(batch: Batch<I>, done: O[], failed: number, error: unknown): void {
    const b = new BatchBuilder<O>();
    for (let j = 0; j < failed; j++) b.push(done[j]!, batch.timestamps[j]!);
    this.runtime.userError(error, batch.values[failed], batch.timestamps[failed]!, 'map function');
    for (let j = failed + 1; j < batch.values.length; j++) {
      try {
        b.push(this.userFunction(batch.values[j]!), batch.timestamps[j]!);
      } catch (e) {
        this.runtime.userError(e, batch.values[j], batch.timestamps[j]!, 'map function');
      }
    }
    if (b.length > 0) this.out.main.emitBatch(b.take());
  }
}
