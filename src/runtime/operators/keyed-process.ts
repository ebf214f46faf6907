import type { KeyedProcessFunction } from '../../core/functions.js';
import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { KeyedOperator } from './keyed-operator.js';
import { invalidKeyError, isKey } from './keyed-scope.js';

/** Runs a {@link KeyedProcessFunction}: per record, the key is made current, then the function runs. */
export class KeyedProcessOperator<K extends Key, I, O> extends KeyedOperator<I, K, O> {
  constructor(
    private readonly fn: KeyedProcessFunction<K, I, O>,
    private readonly keySelector: (value: I) => K,
  ) {
    super();
  }

  protected openKeyed(): void {
    const fn = this.fn;
    const scope = this.openScope((ts) => fn.onTimer?.(ts, scope.ctx, scope.collector));
    fn.open?.(scope.openContext);
  }

  processBatch(batch: Batch<I>): void {
    const { values, timestamps } = batch;
    const { fn, keySelector, scope } = this;
    const ctx = scope.ctx;
    const collector = scope.collector;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = timestamps[i]!;
      try {
        const key = keySelector(v);
        if (!isKey(key)) throw invalidKeyError(this.rt.uid, key, v);
        scope.setKey(key, ts);
        fn.processElement(v, ctx, collector);
      } catch (error) {
        this.rt.userError(error, v, ts, 'processElement');
      }
    }
    collector.flush(this.out);
  }

  override close(): void {
    super.close();
    this.fn.close?.();
  }
}
