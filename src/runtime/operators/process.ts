import type { CoProcessFunction, OpenContext, ProcessContext, ProcessFunction } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import { SluiceError } from '../../errors/index.js';
import { hasTimestamp, type Batch } from '../batch.js';
import { Operator } from '../operator.js';
import { TimestampedCollector } from './timestamped-collector.js';

class Context implements ProcessContext {
  timestamp: number | undefined = undefined;
  constructor(
    private readonly operator: Operator<any, any>,
    private readonly collector: TimestampedCollector<any>,
    private readonly now: () => number,
  ) {}
  currentWatermark(): number {
    return this.operator.watermark;
  }
  currentProcessingTime(): number {
    return this.now();
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.collector.side(tag, value);
  }
}

/** The open context of a step without keys: declaring keyed state fails with STATE_OUTSIDE_KEY. */
export function openContext(uid: string): OpenContext {
  return {
    uid,
    state: () => {
      throw new SluiceError('STATE_OUTSIDE_KEY', `step '${uid}' declares keyed state but its input is not keyed`, {
        step: uid,
        hint: 'Put `.keyBy(…)` before this step to use keyed state.',
      });
    },
  };
}

/**
 * Runs a {@link ProcessFunction} or {@link CoProcessFunction} over a stream that is not
 * keyed. Input 0 goes to `processElement` (or `processElement1`), input 1 to `processElement2`.
 */
export class ProcessOperator<I, O> extends Operator<I, O> {
  private readonly collector = new TimestampedCollector<O>();
  private context!: Context;

  constructor(private readonly userFunction: ProcessFunction<I, O> | CoProcessFunction<any, any, O>) {
    super();
  }
  override open(): void {
    this.context = new Context(this, this.collector, () => this.runtime.clock.now());
    this.userFunction.open?.(openContext(this.runtime.uid));
  }
  processBatch(batch: Batch<I>, input: number): void {
    const { values, timestamps } = batch;
    const { context, collector } = this;
    const userFunction = this.userFunction as Partial<ProcessFunction<I, O> & CoProcessFunction<I, I, O>>;
    const call = 'processElement' in userFunction ? userFunction.processElement! : input === 0 ? userFunction.processElement1! : userFunction.processElement2!;
    for (let i = 0; i < values.length; i++) {
      const timestamp = timestamps[i]!;
      context.timestamp = hasTimestamp(timestamp) ? timestamp : undefined;
      collector.timestamp = timestamp;
      try {
        call.call(userFunction, values[i]!, context, collector);
      } catch (error) {
        this.runtime.userError(error, values[i], timestamp, 'process function');
      }
    }
    collector.flush(this.out);
  }
  override close(): void {
    this.userFunction.close?.();
  }
}
