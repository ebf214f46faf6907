import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { Operator } from '../operator.js';
import type { TimerEntry } from '../timer-queue.js';
import type { InternalTimerService } from './internal-timer-service.js';
import { KeyedScope, invalidKeyError, isKey, type KeyedScopeSnapshot, type TimerCallback } from './keyed-scope.js';

/**
 * The base of keyed operators: a {@link KeyedScope} (key, state, timers), watermarks
 * that fire event-time timers, and checkpointing of state and timers together.
 */
export abstract class KeyedOperator<I, K extends Key, O> extends Operator<I, O> {
  protected scope!: KeyedScope<K, O>;
  /** Snapshots to restore in open(): one, or every old subtask's when rescaling. */
  private restored: readonly KeyedScopeSnapshot[] = [];
  /** Whether the snapshots came from another parallelism: keep only this subtask's key groups. */
  private rescaled = false;

  /** The operator's watermark, processing time and namespaced timers of the current key (available from `openKeyed()` on). */
  get timerService(): InternalTimerService {
    return this.scope;
  }

  /** Makes the scope; call first in `openKeyed()`. */
  protected openScope(onTimer: TimerCallback): KeyedScope<K, O> {
    this.scope = new KeyedScope<K, O>(this.runtime, this.out, onTimer);
    return this.scope;
  }

  /**
   * Runs `each` on every record of `batch` with the record's key current (a key that is not
   * a key is KEY_INVALID); a throw goes to the step's error policy as a failure of `what`.
   * Does not flush: the caller sends what was collected.
   */
  protected forEachKeyed<R extends I>(batch: Batch<R>, keySelector: (value: R) => K, what: string, each: (value: R, timestamp: number) => void): void {
    const { values, timestamps } = batch;
    const scope = this.scope;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const timestamp = timestamps[i]!;
      try {
        const key = keySelector(v);
        if (!isKey(key)) throw invalidKeyError(this.runtime.uid, key, v);
        scope.setKey(key, timestamp);
        each(v, timestamp);
      } catch (error) {
        this.runtime.userError(error, v, timestamp, what);
      }
    }
  }

  /** Opens the step (make the scope, let the function declare its state). */
  protected abstract openKeyed(): void;

  /** Opens, then restores state and timers: after the declarations, so that state versions can be migrated. */
  override open(): void | Promise<void> {
    this.openKeyed();
    const keyGroups = this.rescaled ? this.runtime.subtask.keyGroups : undefined;
    const parts = this.restored;
    this.restored = [];
    // Plain snapshots load synchronously, as always; handles of files (incremental checkpoints) read them.
    if (!parts.some((p) => p.handle !== undefined)) {
      for (const part of parts) void this.scope.restore(part, keyGroups);
      return;
    }
    return (async () => {
      for (const part of parts) await this.scope.restore(part, keyGroups);
    })();
  }

  override initializeState(state: unknown): void {
    this.restored = [state as KeyedScopeSnapshot];
  }
  /** Rescaling: this subtask takes the entries and timers of its key groups from every old subtask's snapshot. */
  override initializeStateParts(parts: readonly unknown[]): void {
    this.restored = parts.filter((p) => p !== undefined) as KeyedScopeSnapshot[];
    this.rescaled = true;
  }
  /** State and timers; a promise when the backend writes an incremental checkpoint of its files (see `KeyedScope.snapshot`). */
  override snapshotState(checkpointId?: number): KeyedScopeSnapshot | Promise<KeyedScopeSnapshot> {
    return this.scope.snapshot(checkpointId);
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
