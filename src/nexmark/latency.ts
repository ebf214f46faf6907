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
 */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private n = 0;
  /** Results emitted by the final watermark, before their window's time had come. */
  flushedAtEnd = 0;

  constructor(
    /** Wall-clock ms (Date.now()); injectable for tests. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one result that was ready (by the rules above) at `readyAtMs`, epoch ms. */
  record(readyAtMs: number): void {
    const ms = this.now() - readyAtMs;
    if (ms < 0) {
      this.flushedAtEnd++;
      return;
    }
    if (this.n === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** The q-quantile (0..1) of the recorded latencies in ms (nearest rank), or undefined without samples. */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const sorted = this.samples.slice(0, this.n).sort();
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1));
    return sorted[rank];
  }

  summary(): { latencyP50Ms: number | undefined; latencyP99Ms: number | undefined; latencySamples: number; flushedAtEnd: number } {
    return { latencyP50Ms: this.quantile(0.5), latencyP99Ms: this.quantile(0.99), latencySamples: this.n, flushedAtEnd: this.flushedAtEnd };
  }
}
