import type { Collector } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import { BatchBuilder } from '../batch.js';
import type { OperatorOutputs } from '../output.js';

/**
 * The {@link Collector} a user function gets (Flink's TimestampedCollector): gathers what
 * it collects while the operator handles a batch (or fires timers), stamped with the
 * current timestamp, and hands it on in one batch per output (`flush`).
 */
export class TimestampedCollector<O> implements Collector<O> {
  /** Timestamp given to what is collected now: the current record's or timer's. */
  timestamp = Number.NaN;
  private readonly main = new BatchBuilder<O>();
  private readonly sides = new Map<string, BatchBuilder<unknown>>();

  collect(value: O): void {
    this.main.push(value, this.timestamp);
  }
  collectAt(value: O, timestamp: number): void {
    this.main.push(value, timestamp);
  }
  side<X>(tag: OutputTag<X>, value: X): void {
    let b = this.sides.get(tag.id);
    if (b === undefined) {
      b = new BatchBuilder<unknown>();
      this.sides.set(tag.id, b);
    }
    b.push(value, this.timestamp);
  }
  /** Sends what was gathered. */
  flush(outputs: OperatorOutputs<O>): void {
    if (this.main.length > 0) outputs.main.emitBatch(this.main.take());
    for (const [id, b] of this.sides) if (b.length > 0) outputs.side(id).emitBatch(b.take());
  }
}
