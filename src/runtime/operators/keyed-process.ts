import type { KeyedProcessFunction } from '../../core/functions.js';
import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { KeyedOperator } from './keyed-operator.js';

/** Runs a {@link KeyedProcessFunction}: per record, the key is made current, then the function runs. */
export class KeyedProcessOperator<K extends Key, I, O> extends KeyedOperator<I, K, O> {
  constructor(
    private readonly userFunction: KeyedProcessFunction<K, I, O>,
    private readonly keySelector: (value: I) => K,
  ) {
    super();
  }

  protected openKeyed(): void {
    const userFunction = this.userFunction;
    const scope = this.openScope((timestamp) => userFunction.onTimer?.(timestamp, scope.context, scope.collector));
    userFunction.open?.(scope.openContext);
  }

  processBatch(batch: Batch<I>): void {
    const { userFunction, scope } = this;
    const context = scope.context;
    const collector = scope.collector;
    this.forEachKeyed(batch, this.keySelector, 'processElement', (v) => userFunction.processElement(v, context, collector));
    collector.flush(this.out);
  }

  override close(): void {
    super.close();
    this.userFunction.close?.();
  }
}
