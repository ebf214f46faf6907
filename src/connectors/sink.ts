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
/** What a job promises about its results after failures and restarts. */
export type DeliveryGuarantee = 'exactly-once' | 'at-least-once' | 'none';

export interface Sink<T> {
  readonly kind: string;
  /**
   * The guarantees this sink can keep (default: at-least-once and none). Exactly-once
   * needs a transactional writer (`preCommit`/`commit`/`recover`) or idempotent writes.
   */
  readonly guarantees?: readonly DeliveryGuarantee[];
  /**
   * Whether the sink can run as several writers at once (each gets
   * {@link SinkContext.subtask}). Default false: one writer, fed by every subtask before it.
   */
  readonly parallel?: boolean;
  describe?(): string;
  createWriter(ctx: SinkContext): SinkWriter<T>;
}

export interface SinkContext {
  /** The sink step's uid. */
  readonly uid: string;
  /** Which writer this is, of how many. */
  readonly subtask: { readonly index: number; readonly parallelism: number };
  readonly clock: Clock;
  /**
   * True when the job runs exactly-once with checkpoints: the writer makes its writes
   * visible only in `commit`. False: it may publish them as it goes (and at `flush`).
   */
  readonly transactional: boolean;
  /**
   * Names this execution of the job: the same across its restarts, new with every
   * `start()`. A writer that numbers what it writes per run (for the receiver's duplicate
   * detection) names the run by it, so that a restart before the first checkpoint
   * replays under the same names.
   */
  readonly executionId: string;
}

export interface SinkWriter<T> {
  open?(): Promise<void>;
  /** Writes a batch: values with their event timestamps (NaN where a record has none). */
  write(values: T[], timestamps: number[]): void | Promise<void>;
  /** Called once at the end of a bounded job, before close: make everything written durable. */
  flush?(): Promise<void>;
  /**
   * Two-phase commit, phase one (at a checkpoint barrier): seal what was written since the
   * last checkpoint into a transaction and return its handle (kept in the checkpoint;
   * structured-clone friendly). Undefined: nothing to commit.
   */
  preCommit?(checkpointId: number): unknown | Promise<unknown>;
  /** Phase two (the checkpoint is durable): publish these transactions. Must be idempotent. */
  commit?(transactions: unknown[]): Promise<void>;
  /**
   * After a restore: `transactions` were pre-committed in the restored checkpoint, so
   * commit them (again, idempotently); abort anything else this sink left unfinished.
   */
  recover?(transactions: unknown[]): Promise<void>;
  /** Releases what the writer holds. Called once, also after a failure. */
  close(): Promise<void>;
}
