import type { Clock } from '../time/clock.js';

/**
 * Where results go. The engine creates one {@link SinkWriter} when the job starts and
 * hands it batches; a write that returns a promise holds the pipeline until it settles,
 * which is how a slow sink slows the source (backpressure).
 *
 * @example
 * const lines: string[] = [];
 * const sink: Sink<string> = { kind: 'lines', createWriter: () => ({ write: (values) => { lines.push(...values); }, close: async () => {} }) };
 */
export interface Sink<T> {
  readonly kind: string;
  describe?(): string;
  createWriter(ctx: SinkContext): SinkWriter<T>;
}

export interface SinkContext {
  /** The sink step's uid. */
  readonly uid: string;
  readonly clock: Clock;
}

export interface SinkWriter<T> {
  open?(): Promise<void>;
  /** Writes a batch: values with their event timestamps (NaN where a record has none). */
  write(values: T[], timestamps: number[]): void | Promise<void>;
  /** Called once at the end of a bounded job, before close: make everything written durable. */
  flush?(): Promise<void>;
  /** Releases what the writer holds. Called once, also after a failure. */
  close(): Promise<void>;
}
