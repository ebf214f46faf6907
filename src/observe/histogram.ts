/**
 * A histogram of plain numbers: cumulative-free bucket counts, a sum and a count, cheap
 * enough for the hot path (one loop over a dozen bounds per observation, and one
 * observation per batch weighted by its record count). The Prometheus collector reads it
 * at scrape time; see `metrics.test.ts`.
 */
export class Histogram {
  /** Count of observations at or below each bound (not cumulative; the last slot is +Inf). */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Records `weight` observations of `value` (a batch of `weight` records that took `value`). */
  observe(value: number, weight = 1): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]! += weight;
    this.sum += value * weight;
    this.count += weight;
  }

  /** The value below which `q` (0..1) of the observations fall, taken as the upper bound of its bucket. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const target = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return i < this.bounds.length ? this.bounds[i]! : Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }
}

/** Latency bounds in seconds: 0.5 ms to 30 s. */
export const LATENCY_BOUNDS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Checkpoint duration bounds in seconds. */
export const CHECKPOINT_BOUNDS_SECONDS: readonly number[] = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
