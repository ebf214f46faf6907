import type { Key } from '../../state/types.js';
import { Operator } from '../operator.js';
import type { TimerEntry } from '../timer-queue.js';
import { KeyedScope, type KeyedScopeSnapshot, type TimerCallback } from './keyed-scope.js';

/**
 * The base of keyed operators: a {@link KeyedScope} (key, state, timers), watermarks
 * that fire event-time timers, and checkpointing of state and timers together.
 */
export abstract class KeyedOperator<I, K extends Key, O> extends Operator<I, O> {
  protected scope!: KeyedScope<K, O>;
  private restored: KeyedScopeSnapshot | undefined;

  /** Makes the scope (with restored state and timers, if any); call from `open()`. */
  protected openScope(onTimer: TimerCallback): KeyedScope<K, O> {
    this.scope = new KeyedScope<K, O>(this.rt, this.out, onTimer);
    if (this.restored) this.scope.restore(this.restored);
    this.restored = undefined;
    return this.scope;
  }

  override initializeState(state: unknown): void {
    this.restored = state as KeyedScopeSnapshot;
  }
  override snapshotState(): KeyedScopeSnapshot {
    return this.scope.snapshot();
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
  override close(): void | Promise<void> {
    this.scope?.quiesce();
  }
}
