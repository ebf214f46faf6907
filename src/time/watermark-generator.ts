/** Where a {@link WatermarkGenerator} sends its decisions. */
export interface WatermarkOutput {
  /** Declares that no record with timestamp <= `watermark` will follow. Lower values than before are ignored. */
  emitWatermark(watermark: number): void;
  /** Declares this input idle: it stops holding back the watermark downstream until its next record. */
  markIdle(): void;
  /** Ends the idleness `markIdle` declared: the input holds back the watermark again. Its next record or watermark does the same. */
  markActive(): void;
}

/**
 * Decides watermarks from the records a source sees (Flink's `WatermarkGenerator`).
 * `onEvent` sees every record (a punctuated generator emits here); `onPeriodicEmit` is
 * called after every batch and every auto-watermark interval of processing time.
 *
 * @example
 * // Punctuated: records carry an explicit "all done up to" mark.
 * const punctuated = (): WatermarkGenerator<{ ts: number; mark?: boolean }> => ({
 *   onEvent: (e, ts, out) => { if (e.mark) out.emitWatermark(ts); },
 *   onPeriodicEmit: () => {},
 * });
 */
export interface WatermarkGenerator<T> {
  /**
   * Sees each record, in order, with its event timestamp (epoch ms). A watermark emitted
   * here goes out right after this record.
   */
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void;
  /** Called after each batch and every 200 ms of processing time (not while the input is idle): a periodic generator emits here. */
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** Watermark = highest timestamp seen - delay - 1 (Flink's rule: a record at exactly max - delay is not late). */
export class BoundedOutOfOrdernessGenerator<T> implements WatermarkGenerator<T> {
  private maxTimestamp = Number.NEGATIVE_INFINITY;
  constructor(private readonly delayMs: number) {}
  /** Keeps the highest timestamp seen. */
  onEvent(_event: T, timestamp: number): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }
  /** Emits the highest timestamp seen minus the delay minus 1 ms; nothing before the first record. */
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.maxTimestamp !== Number.NEGATIVE_INFINITY) output.emitWatermark(this.maxTimestamp - this.delayMs - 1);
  }
}
