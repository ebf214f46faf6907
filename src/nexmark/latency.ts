/**
 * End-to-end latency of a paced run (`--rate R`). The events are paced in wall-clock
 * time at R per second with event time running at the same rate from `baseTime = now`,
 * so an event's `dateTime` is (to the pacing's precision) the wall-clock time it was due
 * to be generated. That makes latency measurable at the sink without carrying anything
 * extra through the job:
 *
 * - stateless and join queries (q0–q4): now − the result's timestamp (the event that
 *   produced it: its generation time);
 * - windowed queries (q5, q7, q8, q11): now − the moment the watermark passed the window
 *   end. With watermark = max timestamp − delay − 1, the watermark reaches the window's
 *   last millisecond `end − 1` once an event stamped `end + delay` was generated, at wall
 *   time `end + delay`. Results that the end of the input flushed before that moment (the
 *   final watermark of a bounded source) are counted apart, not as latencies.
 *
 * Every result is a sample, from the first to the last: the spec defines no warm-up.
 */
export class LatencyRecorder {
  /**
   * counts[ms] = how many results had a latency of `ms` whole milliseconds. A histogram,
   * not a list of samples: recording must not pause the run it measures (a list of 18M
   * samples grew by copying 128 MB into 256 MB in the middle of the run, a pause of tens
   * of ms that every result in flight waited out), and the quantiles are the same.
   */
  private counts = new Float64Array(1024);
  private n = 0;
  /** Results emitted by the final watermark, before their window's time had come. */
  flushedAtEnd = 0;

  constructor(
    /** Wall-clock ms (Date.now()); injectable for tests. */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records one result that was ready (by the rules above) at `readyAtMs`, epoch ms.
   * Latencies are whole milliseconds, like Date.now() and event times; a fraction (from
   * an injected clock) counts as the next whole millisecond.
   */
  record(readyAtMs: number): void {
    const ms = this.now() - readyAtMs;
    if (ms < 0) {
      this.flushedAtEnd++;
      return;
    }
    const bin = Math.ceil(ms);
    if (bin >= this.counts.length) {
      // rare (each time the worst latency doubles), and small
      const grown = new Float64Array(Math.max(bin + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[bin]!++;
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** The q-quantile (0..1) of the recorded latencies in ms (nearest rank), or undefined without samples. */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const rank = Math.min(this.n, Math.max(1, Math.ceil(q * this.n)));
    let seen = 0;
    for (let ms = 0; ms < this.counts.length; ms++) {
      seen += this.counts[ms]!;
      if (seen >= rank) return ms;
    }
    return undefined; // not reached: the counts add up to n
  }

  summary(): { latencyP50Ms: number | undefined; latencyP99Ms: number | undefined; latencySamples: number; flushedAtEnd: number } {
    return { latencyP50Ms: this.quantile(0.5), latencyP99Ms: this.quantile(0.99), latencySamples: this.n, flushedAtEnd: this.flushedAtEnd };
  }
}
