import type { KeyedCoProcessFunction } from '../../core/functions.js';
import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { KeyedOperator } from './keyed-operator.js';
import { invalidKeyError, isKey } from './keyed-scope.js';

/** Runs a {@link KeyedCoProcessFunction}: two keyed inputs sharing one key space, state and timers. */
export class KeyedCoProcessOperator<K extends Key, I1, I2, O> extends KeyedOperator<I1 | I2, K, O> {
  constructor(
    private readonly userFunction: KeyedCoProcessFunction<K, I1, I2, O>,
    private readonly keySelector1: (value: I1) => K,
    private readonly keySelector2: (value: I2) => K,
  ) {
    super();
  }

  protected openKeyed(): void {
    const userFunction = this.userFunction;
    const scope = this.openScope((timestamp) => userFunction.onTimer?.(timestamp, scope.context, scope.collector));
    userFunction.open?.(scope.openContext);
  }

  processBatch(batch: Batch<I1 | I2>, input: number): void {
    const { values, timestamps } = batch;
    const { userFunction, scope } = this;
    const first = input === 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const timestamp = timestamps[i]!;
      try {
        const key = first ? this.keySelector1(v as I1) : this.keySelector2(v as I2);
        if (!isKey(key)) throw invalidKeyError(this.runtime.uid, key, v);
        scope.setKey(key, timestamp);
        if (first) userFunction.processElement1(v as I1, scope.context, scope.collector);
        else userFunction.processElement2(v as I2, scope.context, scope.collector);
      } catch (error) {
        this.runtime.userError(error, v, timestamp, first ? 'processElement1' : 'processElement2');
      }
    }
    scope.collector.flush(this.out);
  }

  override close(): void {
    super.close();
    this.userFunction.close?.();
  }
}
