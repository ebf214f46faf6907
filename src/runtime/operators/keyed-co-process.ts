import type { KeyedCoProcessFunction } from '../../core/functions.js';
import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { KeyedOperator } from './keyed-operator.js';
import { invalidKeyError, isKey } from './keyed-scope.js';

/** Runs a {@link KeyedCoProcessFunction}: two keyed inputs sharing one key space, state and timers. */
export class KeyedCoProcessOperator<K extends Key, I1, I2, O> extends KeyedOperator<I1 | I2, K, O> {
  constructor(
    private readonly fn: KeyedCoProcessFunction<K, I1, I2, O>,
    private readonly keySelector1: (value: I1) => K,
    private readonly keySelector2: (value: I2) => K,
  ) {
    super();
  }

  protected openKeyed(): void {
    const fn = this.fn;
    const scope = this.openScope((ts) => fn.onTimer?.(ts, scope.ctx, scope.collector));
    fn.open?.(scope.openContext);
  }

  processBatch(batch: Batch<I1 | I2>, input: number): void {
    const { values, timestamps } = batch;
    const { fn, scope } = this;
    const first = input === 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = timestamps[i]!;
      try {
        const key = first ? this.keySelector1(v as I1) : this.keySelector2(v as I2);
        if (!isKey(key)) throw invalidKeyError(this.rt.uid, key, v);
        scope.setKey(key, ts);
        if (first) fn.processElement1(v as I1, scope.ctx, scope.collector);
        else fn.processElement2(v as I2, scope.ctx, scope.collector);
      } catch (error) {
        this.rt.userError(error, v, ts, first ? 'processElement1' : 'processElement2');
      }
    }
    scope.collector.flush(this.out);
  }

  override close(): void {
    super.close();
    this.fn.close?.();
  }
}
