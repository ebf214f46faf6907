import type { MetricsSnapshot } from './job-metrics.js';

/** Rates between two snapshots: per step records/s, per task the share of time busy, backpressured, idle. */
export interface MetricsSample {
  readonly time: number;
  readonly snapshot: MetricsSnapshot;
  readonly rates: Record<string, { inPerSec: number; outPerSec: number }>;
  readonly taskRatios: Record<string, { busy: number; backpressured: number; idle: number }>;
}

/**
 * Takes a snapshot every `intervalMs` and keeps the last `keep` samples with rates, for
 * the dashboard's charts, `sluice status` and the live progress of `sluice run`.
 * Listeners hear every new sample (the SSE stream). Its timer never holds the process open.
 */
export class MetricsSampler {
  private readonly samples: MetricsSample[] = [];
  private readonly listeners = new Set<(s: MetricsSample) => void>();
  private timer: NodeJS.Timeout | undefined;
  private prev: { snapshot: MetricsSnapshot; at: number } | undefined;

  constructor(
    private readonly take: () => MetricsSnapshot,
    private readonly intervalMs = 1000,
    private readonly keep = 300,
  ) {}

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a sample now (also called by the timer). */
  sample(): MetricsSample {
    const snapshot = this.take();
    const at = performance.now();
    const rates: MetricsSample['rates'] = {};
    const taskRatios: MetricsSample['taskRatios'] = {};
    const prev = this.prev;
    const seconds = prev ? (at - prev.at) / 1000 : 0;
    for (const s of snapshot.steps) {
      const p = prev?.snapshot.steps.find((x) => x.uid === s.uid);
      rates[s.uid] = p && seconds > 0 ? { inPerSec: (s.recordsIn - p.recordsIn) / seconds, outPerSec: (s.recordsOut - p.recordsOut) / seconds } : { inPerSec: 0, outPerSec: 0 };
    }
    for (const t of snapshot.tasks) {
      const p = prev?.snapshot.tasks.find((x) => x.name === t.name);
      const busy = t.busyMs - (p?.busyMs ?? 0);
      const bp = t.backpressuredMs - (p?.backpressuredMs ?? 0);
      const idle = t.idleMs - (p?.idleMs ?? 0);
      const total = busy + bp + idle;
      taskRatios[t.name] = total > 0 ? { busy: busy / total, backpressured: bp / total, idle: idle / total } : { busy: 0, backpressured: 0, idle: 1 };
    }
    this.prev = { snapshot, at };
    const sample: MetricsSample = { time: snapshot.time, snapshot, rates, taskRatios };
    this.samples.push(sample);
    if (this.samples.length > this.keep) this.samples.shift();
    for (const l of this.listeners) l(sample);
    return sample;
  }

  /** The last sample, taking one if there is none yet. */
  latest(): MetricsSample {
    return this.samples[this.samples.length - 1] ?? this.sample();
  }

  history(): readonly MetricsSample[] {
    return this.samples;
  }

  subscribe(listener: (s: MetricsSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
