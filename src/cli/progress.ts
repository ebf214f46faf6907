import type { JobMonitor } from '../observe/job-monitor.js';

/**
 * The live line `sluice run` keeps at the bottom of a terminal (stderr): for a bounded
 * job, events read, rate, percent and ETA where the sources can tell their backlog; for
 * an unbounded one, rate, watermark lag and the last checkpoint. Log lines written
 * through `log()` go above it.
 */
export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(
    private readonly monitor: JobMonitor,
    private readonly bounded: boolean,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  /** Writes a log line above the progress line. */
  log(line: string): void {
    this.clear();
    this.out.write(line);
    this.draw();
  }

  private clear(): void {
    if (this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
  }

  private draw(): void {
    if (!this.timer) return;
    this.clear();
    this.out.write(progressText(this.monitor, this.bounded).slice(0, Math.max(20, (this.out.columns || 160) - 1)));
    this.shown = true;
  }
}

/** One line of progress (exported for tests). */
export function progressText(m: JobMonitor, bounded: boolean): string {
  const s = m.sampler.latest();
  const sources = s.snapshot.steps.filter((x) => x.kind === 'source' && x.uid !== 'dead-letters');
  const read = sources.reduce((a, x) => a + x.recordsOut, 0);
  const rate = sources.reduce((a, x) => a + (s.rates[x.uid]?.outPerSec ?? 0), 0);
  const parts = [`${m.id}: ${count(read)} events`, `${count(rate)}/s`];
  if (bounded) {
    const backlogs = sources.map((x) => x.backlog);
    if (backlogs.length > 0 && backlogs.every((b) => b !== null)) {
      const left = backlogs.reduce<number>((a, b) => a + (b ?? 0), 0);
      const total = read + left;
      parts.push(`${total > 0 ? ((100 * read) / total).toFixed(1) : '100.0'}%`);
      if (rate > 0) parts.push(`ETA ${duration((left / rate) * 1000)}`);
    }
  } else {
    const lags = s.snapshot.steps.map((x) => x.watermarkLagMs).filter((x): x is number => x !== null);
    if (lags.length > 0) parts.push(`watermark lag ${duration(Math.max(...lags))}`);
    const cp = s.snapshot.checkpoints.last;
    parts.push(cp ? `checkpoint ${cp.checkpointId} ${cp.status} ${duration(Date.now() - (cp.triggeredAt + cp.durationMs))} ago` : 'no checkpoint yet');
  }
  if (m.metrics.restarts > 0) parts.push(`${m.metrics.restarts} restart(s)`);
  return parts.join(' · ');
}

function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)}min`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}
