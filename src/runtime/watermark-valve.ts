import { MAX_WATERMARK, MIN_WATERMARK } from './batch.js';

/**
 * Combines the watermarks of several inputs into one: the minimum over the inputs that
 * are neither idle nor ended. The combined watermark never moves backwards. When every
 * input has ended it becomes MAX_WATERMARK (the final one). When every input that has
 * not ended is idle, the operator is idle and the watermark stays where it is: unlike
 * Flink, an ended input does not push the watermark past an idle one that may resume.
 * See `watermark-valve.test.ts`.
 */
export class WatermarkValve {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private readonly ended: boolean[];
  private combined = MIN_WATERMARK;
  private allIdle = false;

  constructor(inputs: number) {
    this.watermarks = new Array<number>(inputs).fill(MIN_WATERMARK);
    this.idle = new Array<boolean>(inputs).fill(false);
    this.ended = new Array<boolean>(inputs).fill(false);
  }

  get current(): number {
    return this.combined;
  }
  /** True when every input that has not ended is idle (and at least one has not ended). */
  get isIdle(): boolean {
    return this.allIdle;
  }

  /** Records input `i`'s watermark; returns the new combined watermark if it advanced. */
  watermark(i: number, watermark: number): number | undefined {
    if (watermark > this.watermarks[i]!) this.watermarks[i] = watermark;
    this.idle[i] = false;
    return this.recompute();
  }

  /** Records that input `i` went idle or active; returns the new combined watermark if it advanced. */
  setIdle(i: number, idle: boolean): number | undefined {
    this.idle[i] = idle;
    return this.recompute();
  }

  /** Input `i` has ended: it no longer holds the watermark back. */
  end(i: number): number | undefined {
    this.ended[i] = true;
    this.idle[i] = false;
    return this.recompute();
  }

  private recompute(): number | undefined {
    let min = MAX_WATERMARK;
    let active = 0;
    let open = 0;
    for (let i = 0; i < this.watermarks.length; i++) {
      // An input at the final watermark has finished in event time: it counts as ended, so
      // that (like an ended one) it does not push the watermark past an idle input.
      if (this.ended[i] || this.watermarks[i] === MAX_WATERMARK) continue;
      open++;
      if (this.idle[i]) continue;
      active++;
      if (this.watermarks[i]! < min) min = this.watermarks[i]!;
    }
    this.allIdle = open > 0 && active === 0;
    if (this.allIdle) return undefined;
    if (min > this.combined) {
      this.combined = min;
      return min;
    }
    return undefined;
  }
}
