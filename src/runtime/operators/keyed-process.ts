import type { KeyedProcessFunction } from '../../api/functions.js';
import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';
import type { TimerEntry } from '../timer-queue.js';
import { KeyedScope, invalidKeyError, isKey } from './keyed-scope.js';

/** Runs a {@link KeyedProcessFunction}: per record, the key is made current, then the function runs. */
export class KeyedProcessOperator<K extends Key, I, O> extends Operator<I, O> {
  private scope!: KeyedScope<K, O>;

  constructor(
    private readonly fn: KeyedProcessFunction<K, I, O>,
    private readonly keySelector: (value: I) => K,
  ) {
    super();
  }

  override open(): void {
    const fn = this.fn;
    this.scope = new KeyedScope<K, O>(this.rt, this.out, (ts) => fn.onTimer?.(ts, this.scope.ctx, this.scope.emitter));
    fn.open?.(this.scope.openContext);
  }

  processBatch(batch: Batch<I>): void {
    const { values, timestamps } = batch;
    const { fn, keySelector, scope } = this;
    const ctx = scope.ctx;
    const emitter = scope.emitter;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = timestamps[i]!;
      try {
        const key = keySelector(v);
        if (!isKey(key)) throw invalidKeyError(this.rt.uid, key, v);
        scope.setKey(key, ts);
        fn.processElement(v, ctx, emitter);
      } catch (error) {
        this.rt.userError(error, v, ts, 'processElement');
      }
    }
    emitter.flush(this.out);
  }

  override processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.scope.advanceWatermark(watermark);
    this.out.watermark(watermark);
  }

  override endInput(): void {
    this.scope.quiesce();
    this.out.end();
  }

  /** Pending timers (for the test harness). */
  timers(): { eventTime: TimerEntry[]; processingTime: TimerEntry[] } {
    return { eventTime: this.scope.eventTimers.entries(), processingTime: this.scope.processingTimers.entries() };
  }

  override close(): void {
    this.scope?.quiesce();
    this.fn.close?.();
  }
}
