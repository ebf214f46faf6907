import type { Clock } from '../time/clock.js';

/** What a job promises about its results after failures and restarts. */
export type DeliveryGuarantee = 'exactly-once' | 'at-least-once' | 'none';

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
  /** A short name of the kind of sink, shown in `job.explain()` and in its errors ('file', 'kafka', …). */
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
  /** One line about this sink's configuration, for `job.explain()`. */
  describe?(): string;
  /**
   * Makes the writer of one run: called when the sink step starts and again at each
   * restart, once per writer (each parallel writer of a `parallel` sink gets its own `ctx`).
   * Keep it cheap: connecting belongs in the writer's `open`.
   */
  createWriter(ctx: SinkContext): SinkWriter<T>;
}

/** What the engine tells a sink's writer: which writer it is, its clock, whether it writes transactionally, the run's id. */
export interface SinkContext {
  /** The sink step's uid. */
  readonly uid: string;
  /** Which writer this is, of how many. */
  readonly subtask: { readonly index: number; readonly parallelism: number };
  /** The job's clock: read time from it, not `Date.now()` (tests run on a manual clock). */
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

/**
 * Writes a sink's results for one run, made by {@link Sink.createWriter}. The engine calls
 * `open`, then `recover` (with the restored transactions; none on a fresh start), `write`
 * per batch, `preCommit` at each checkpoint barrier and `commit` once the checkpoint is
 * durable, `flush` at the end of a bounded job, and `close`.
 */
export interface SinkWriter<T> {
  /** Called once before anything else: connect, open files. A rejection fails the job. */
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
