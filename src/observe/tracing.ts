/** One task's work on a sampled batch, OpenTelemetry-shaped (ids in hex, times in epoch ms). */
export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly name: string;
  readonly attributes: { readonly job: string; readonly task: string };
  readonly startTimeMs: number;
  readonly endTimeMs: number;
}

/**
 * Minimal sampled tracing, off by default (`JobOptions.tracing: { sampleEvery: N }`): one
 * source batch in N gets a trace id, which travels with the batch through channels (the
 * same way its read time does, see `BatchContext`); each task that handles it records a
 * span. The last spans are kept in memory (`GET /jobs/:id/traces`) and logged at debug
 * level. A trace follows a batch, not a single record, and ends where a window or a
 * timer holds records back. See `test/server/server.test.ts` (`/traces`).
 */
export class Tracer {
  private readonly spans: Span[] = [];
  private readonly origin = Date.now() - performance.now();

  constructor(
    readonly job: string,
    readonly sampleEvery: number,
    private readonly keep = 1000,
    private readonly onSpan: (span: Span) => void = () => {},
  ) {}

  record(traceId: string, task: string, startMs: number, endMs: number): void {
    const span: Span = {
      traceId,
      spanId: Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0') + Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0'),
      name: `task ${task}`,
      attributes: { job: this.job, task },
      startTimeMs: this.origin + startMs,
      endTimeMs: this.origin + endMs,
    };
    this.spans.push(span);
    if (this.spans.length > this.keep) this.spans.shift();
    this.onSpan(span);
  }

  /** The spans kept, oldest first, grouped by trace. */
  traces(): Array<{ traceId: string; spans: Span[] }> {
    const by = new Map<string, Span[]>();
    for (const s of this.spans) {
      const list = by.get(s.traceId) ?? [];
      list.push(s);
      by.set(s.traceId, list);
    }
    return [...by].map(([traceId, spans]) => ({ traceId, spans }));
  }
}
