import { SluiceError, describeRecord } from '../errors/index.js';
import { KeyedOperator } from '../runtime/operators/keyed-operator.js';
import type { TimestampedCollector } from '../runtime/operators/timestamped-collector.js';
import type { Key } from '../state/types.js';
import type { WindowSpec } from './window-spec.js';

/**
 * What both window operators (the general one and the sliced one) share: their spec,
 * the late-record counters the metrics read, the late-data routing, the error for a
 * record without timestamp, and closing the window function.
 */
export abstract class WindowStepOperator<T, K extends Key, O> extends KeyedOperator<T, K, O> {
  /** Records too late for every window, dropped because no late-data output is set. */
  lateDropped = 0;
  /** Records sent to the late-data output. */
  lateToSideOutput = 0;

  constructor(
    protected readonly spec: WindowSpec<T, K, O>,
    protected readonly keySelector: (value: T) => K,
  ) {
    super();
  }

  /** @internal Where the window function's side outputs go. */
  get collector(): TimestampedCollector<O> {
    return this.scope.collector;
  }

  /** A record too late for any window: to the late-data output, or counted as dropped. */
  protected late(value: T): void {
    if (this.spec.lateTag) {
      this.lateToSideOutput++;
      this.scope.collector.side(this.spec.lateTag, value);
    } else {
      this.lateDropped++;
    }
  }

  protected noTimestamp(value: T): SluiceError {
    return new SluiceError('NO_TIMESTAMP', `step '${this.runtime.uid}': an event-time window got a record without timestamp: ${describeRecord(value)}`, {
      step: this.runtime.uid,
    });
  }

  override close(): void {
    super.close();
    this.spec.fn.process?.close?.();
  }
}
