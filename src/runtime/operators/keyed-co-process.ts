import type { KeyedCoProcessFunction } from '../../api/functions.js';
import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';
import type { TimerEntry } from '../timer-queue.js';
import { KeyedScope, invalidKeyError, isKey } from './keyed-scope.js';

/** Runs a {@link KeyedCoProcessFunction}: two keyed inputs sharing one key space, state and timers. */
export class KeyedCoProcessOperator<K extends Key, I1, I2, O> extends Operator<I1 | I2, O> {
  private scope!: KeyedScope<K, O>;

  constructor(
    private readonly fn: KeyedCoProcessFunction<K, I1, I2, O>,
    private readonly keySelector1: (value: I1) => K,
    private readonly keySelector2: (value: I2) => K,
  ) {
    super();
  }

  override open(): void {
    const fn = this.fn;
    this.scope = new KeyedScope<K, O>(this.rt, this.out, (ts) => fn.onTimer?.(ts, this.scope.ctx, this.scope.emitter));
    fn.open?.(this.scope.openContext);
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
        if (first) fn.processElement1(v as I1, scope.ctx, scope.emitter);
        else fn.processElement2(v as I2, scope.ctx, scope.emitter);
      } catch (error) {
        this.rt.userError(error, v, ts, first ? 'processElement1' : 'processElement2');
      }
    }
    scope.emitter.flush(this.out);
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
