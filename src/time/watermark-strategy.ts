import { SluiceError } from '../errors/index.js';
import { type Duration, toMillis, toPositiveMillis } from './duration.js';
import { BoundedOutOfOrdernessGenerator, type WatermarkGenerator } from './watermark-generator.js';

/** Extracts a record's event time (epoch ms). `previous` is the timestamp the record already carries (from its source), or NaN. */
export type TimestampAssigner<T> = (record: T, previous: number) => number;

/**
 * How a stream gets event timestamps and watermarks. Immutable: every `with…` returns a
 * new strategy. Build one with the static factories.
 *
 * @example
 * const strategy = WatermarkStrategy.forBoundedOutOfOrderness<{ at: number }>('5s')
 *   .withTimestampAssigner((e) => e.at)
 *   .withIdleness('1m');
 */
export class WatermarkStrategy<T> {
  private constructor(
    /** Makes one generator per running source. */
    readonly createGenerator: () => WatermarkGenerator<T>,
    readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** After this much processing time without records the input is marked idle. */
    readonly idleTimeoutMs: number | undefined,
    /** A short description for `job.explain()`. */
    readonly description: string,
  ) {
    Object.freeze(this);
  }

  /** Tolerates records up to `maxOutOfOrderness` behind the highest timestamp seen. */
  static forBoundedOutOfOrderness<T>(maxOutOfOrderness: Duration): WatermarkStrategy<T> {
    const delay = toMillis(maxOutOfOrderness, 'maxOutOfOrderness');
    return new WatermarkStrategy<T>(
      () => new BoundedOutOfOrdernessGenerator<T>(delay),
      undefined,
      undefined,
      `bounded out-of-orderness ${delay}ms`,
    );
  }

  /** Timestamps never decrease: the watermark follows the highest timestamp. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessGenerator<T>(0), undefined, undefined, 'monotonous');
  }

  /** Your own generator (punctuated or periodic). */
  static forGenerator<T>(create: () => WatermarkGenerator<T>, description = 'custom'): WatermarkStrategy<T> {
    if (typeof create !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'WatermarkStrategy.forGenerator needs a function that creates a generator');
    }
    return new WatermarkStrategy<T>(create, undefined, undefined, description);
  }

  /** Timestamps only, no watermarks: event-time timers then fire only at the end of a bounded input. */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => ({ onEvent() {}, onPeriodicEmit() {} }), undefined, undefined, 'no watermarks');
  }

  /**
   * Takes each record's event time from `assigner` instead of the timestamp its source
   * gave. A throw, or a result that is not a number, fails the job or dead-letters the
   * record, as the step's `onError` says.
   */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'withTimestampAssigner needs a function (record) => epoch milliseconds');
    }
    return new WatermarkStrategy<T>(this.createGenerator, assigner, this.idleTimeoutMs, this.description);
  }

  /** Marks the input idle after `timeout` of processing time without records, so it stops holding back the watermark. */
  withIdleness(timeout: Duration): WatermarkStrategy<T> {
    const ms = toPositiveMillis(timeout, 'idleness timeout');
    return new WatermarkStrategy<T>(this.createGenerator, this.timestampAssigner, ms, this.description);
  }

  /** The strategy in one line for `job.explain()`, such as `bounded out-of-orderness 5000ms, idle after 60000ms`. */
  describe(): string {
    return this.idleTimeoutMs === undefined ? this.description : `${this.description}, idle after ${this.idleTimeoutMs}ms`;
  }
}
