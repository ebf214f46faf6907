import type { CoProcessFunction, OpenContext, ProcessContext, ProcessFunction } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import { SluiceError } from '../../errors/index.js';
import { hasTimestamp, type Batch } from '../batch.js';
import { Operator } from '../operator.js';
import { TimestampedCollector } from './timestamped-collector.js';

class Context implements ProcessContext {
  timestamp: number | undefined = undefined;
  constructor(
    private readonly op: Operator<any, any>,
    private readonly collector: TimestampedCollector<any>,
    private readonly now: () => number,
  ) {}
  currentWatermark(): number {
    return this.op.watermark;
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
  private ctx!: Context;

  constructor(private readonly fn: ProcessFunction<I, O> | CoProcessFunction<any, any, O>) {
    super();
  }
  override open(): void {
    this.ctx = new Context(this, this.collector, () => this.rt.clock.now());
    this.fn.open?.(openContext(this.rt.uid));
  }
  processBatch(batch: Batch<I>, input: number): void {
    const { values, timestamps } = batch;
    const { ctx, collector } = this;
    const fn = this.fn as Partial<ProcessFunction<I, O> & CoProcessFunction<I, I, O>>;
    const call = 'processElement' in fn ? fn.processElement! : input === 0 ? fn.processElement1! : fn.processElement2!;
    for (let i = 0; i < values.length; i++) {
      const ts = timestamps[i]!;
      ctx.timestamp = hasTimestamp(ts) ? ts : undefined;
      collector.timestamp = ts;
      try {
        call.call(fn, values[i]!, ctx, collector);
      } catch (error) {
        this.rt.userError(error, values[i], ts, 'process function');
      }
    }
    collector.flush(this.out);
  }
  override close(): void {
    this.fn.close?.();
  }
}
