import type { WatermarkGenerator, WatermarkOutput } from '../../time/watermark-generator.js';
import type { WatermarkStrategy } from '../../time/watermark-strategy.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { MAX_WATERMARK, type Batch } from '../batch.js';
import { Operator } from '../operator.js';

/** How often, in processing time, generators are asked for a watermark when no records arrive (Flink's auto-watermark interval). */
export const AUTO_WATERMARK_INTERVAL_MS = 200;

/**
 * Assigns event timestamps and generates watermarks with a {@link WatermarkStrategy}.
 * Watermarks from upstream are dropped (this step decides them), except the final one at
 * the end of a bounded input. Emitted watermarks never move backwards. With idleness
 * configured, an input without records for the timeout is marked idle, and active again
 * at its next record. See `timestamps-watermarks.test.ts`.
 */
export class TimestampsAndWatermarksOperator<T> extends Operator<T, T> implements WatermarkOutput {
  private generator!: WatermarkGenerator<T>;
  private emitted = Number.NEGATIVE_INFINITY;
  private idle = false;
  private lastRecordAt = 0;
  private cancelTick: (() => void) | undefined;
  private ended = false;
  /** Records of the current batch whose timestamp assignment failed (dead-lettered). */
  private failures = 0;
  /** Set while the generator's onEvent runs: a watermark it emits is held until its record is sent. */
  private holding = false;
  private held: number | undefined;

  constructor(private readonly strategy: WatermarkStrategy<T>) {
    super();
  }

  override open(): void {
    this.generator = this.strategy.createGenerator();
    this.lastRecordAt = this.runtime.clock.now();
    this.scheduleTick();
  }

  processBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const assigner = this.strategy.timestampAssigner;
    const gen = this.generator;
    const n = values.length;
    const out = assigner ? new Array<number>(n) : timestamps;
    let from = 0; // first record not yet sent
    this.failures = 0;
    if (this.idle) this.markActive();
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      let timestamp = timestamps[i]!;
      if (assigner) {
        try {
          timestamp = assigner(v, timestamp);
          if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) throw badTimestamp(this.runtime.uid, timestamp, v);
        } catch (error) {
          this.runtime.userError(error, v, timestamps[i]!, 'timestamp assigner');
          timestamp = Number.NaN; // dead-lettered: marked for removal below
          this.failures++;
        }
        out[i] = timestamp;
      }
      // A watermark decided on this record goes after it (and the records before it), as in
      // Flink: otherwise the records of this batch would arrive behind it, late.
      this.holding = true;
      try {
        gen.onEvent(v, timestamp, this);
      } finally {
        this.holding = false;
      }
      if (this.held !== undefined) {
        this.emitRecords(batch, out, from, i + 1);
        from = i + 1;
        const watermark = this.held;
        this.held = undefined;
        this.emitWatermark(watermark);
      }
    }
    this.lastRecordAt = this.runtime.clock.now();
    this.emitRecords(batch, out, from, n);
    gen.onPeriodicEmit(this);
  }

  /** Sends records [from, to) of the batch with their assigned timestamps. */
  private emitRecords(batch: Batch<T>, timestamps: number[], from: number, to: number): void {
    if (from >= to) return;
    // Only a batch with failed assignments needs the scan that drops them.
    const drop = this.failures > 0;
    if (from === 0 && to === batch.values.length) {
      this.out.main.emitBatch(drop ? dropFailed(batch.values, timestamps) : { values: batch.values, timestamps });
    } else {
      const values = batch.values.slice(from, to);
      const part = timestamps.slice(from, to);
      this.out.main.emitBatch(drop ? dropFailed(values, part) : { values, timestamps: part });
    }
  }

  // --- WatermarkOutput, called by the generator ---
  emitWatermark(watermark: number): void {
    if (this.holding) {
      if (watermark > (this.held ?? this.emitted)) this.held = watermark;
      return;
    }
    if (watermark > this.emitted && !this.ended) {
      this.emitted = watermark;
      this.watermark = watermark;
      if (this.idle) this.markActive();
      this.out.watermark(watermark);
    }
  }
  markIdle(): void {
    if (!this.idle) {
      this.idle = true;
      this.out.idle(true);
    }
  }
  markActive(): void {
    if (this.idle) {
      this.idle = false;
      this.out.idle(false);
    }
  }

  override processWatermark(watermark: number): void {
    // Only the end of input passes through: this step owns the watermarks downstream.
    if (watermark === MAX_WATERMARK) {
      this.markActive();
      this.emitWatermark(MAX_WATERMARK);
    }
  }
  override processIdle(): void {}

  override endInput(): void {
    this.ended = true;
    this.stopTicks();
    this.out.end();
  }
  override close(): void {
    this.stopTicks();
  }

  private scheduleTick(): void {
    const at = this.runtime.clock.now() + AUTO_WATERMARK_INTERVAL_MS;
    this.cancelTick = this.runtime.scheduleProcessingTime(at, () => {
      this.cancelTick = undefined;
      if (this.ended) return;
      const idleAfter = this.strategy.idleTimeoutMs;
      if (idleAfter !== undefined && this.runtime.clock.now() - this.lastRecordAt >= idleAfter) this.markIdle();
      else this.generator.onPeriodicEmit(this);
      this.scheduleTick();
    });
  }
  private stopTicks(): void {
    this.cancelTick?.();
    this.cancelTick = undefined;
  }
}

function badTimestamp(uid: string, timestamp: unknown, record: unknown): SluiceError {
  return new SluiceError(
    'USER_FUNCTION_FAILED',
    `step '${uid}': the timestamp assigner returned ${String(timestamp)} for record ${describeRecord(record)}; expected epoch milliseconds`,
    { step: uid },
  );
}

/** Removes records whose timestamp assignment failed (and were dead-lettered). */
function dropFailed<T>(values: T[], timestamps: number[]): Batch<T> {
  if (!timestamps.some(Number.isNaN)) return { values, timestamps };
  const v: T[] = [];
  const t: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(timestamps[i]!)) {
      v.push(values[i]!);
      t.push(timestamps[i]!);
    }
  }
  return { values: v, timestamps: t };
}
