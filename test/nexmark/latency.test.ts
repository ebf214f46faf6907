import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../src/nexmark/latency.js';

/** The nearest-rank quantile of a list, the obvious way. */
function nearestRank(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

describe('LatencyRecorder', () => {
  it('gives the nearest-rank quantiles of the recorded latencies, however large (seeded)', () => {
    const seed = 20261129;
    let x = seed;
    const random = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296;
    let now = 1_700_000_000_000;
    const recorder = new LatencyRecorder(() => now);
    const samples: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // mostly 0-3 ms, a tail to 100 ms, and a few far beyond the histogram's first size
      const ms = random() < 0.9 ? Math.floor(random() * 4) : random() < 0.95 ? Math.floor(random() * 100) : Math.floor(random() * 50_000);
      now += 1;
      recorder.record(now - ms);
      samples.push(ms);
    }
    expect(recorder.count).toBe(samples.length);
    for (const q of [0, 0.001, 0.5, 0.9, 0.99, 0.999, 1]) expect(recorder.quantile(q), `q ${q}, seed ${seed}`).toBe(nearestRank(samples, q));
  });

  it('counts a result ready after now apart, a fraction of a millisecond as the next whole one, and has no quantile without samples', () => {
    let now = 1000;
    const recorder = new LatencyRecorder(() => now);
    expect(recorder.summary()).toEqual({ latencyP50Ms: undefined, latencyP99Ms: undefined, latencySamples: 0, flushedAtEnd: 0 });
    recorder.record(1001);
    now = 1010.25;
    recorder.record(1010);
    recorder.record(1007);
    expect(recorder.summary()).toEqual({ latencyP50Ms: 1, latencyP99Ms: 4, latencySamples: 2, flushedAtEnd: 1 });
  });
});
