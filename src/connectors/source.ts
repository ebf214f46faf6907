import type { Clock } from '../time/clock.js';

/**
 * A source of records: bounded (a collection, a file) or unbounded (a generator without
 * end, an HTTP endpoint, a broker). The engine asks it for a {@link SourceReader} when
 * the job starts and polls that reader in a loop; the poll is where backpressure lands,
 * because the engine does not poll again until downstream queues have room.
 *
 * @example
 * const numbers: Source<number> = {
 *   kind: 'numbers', bounded: true,
 *   createReader: () => {
 *     let done = false;
 *     return { poll: async () => { if (done) return { values: [], done: true }; done = true; return { values: [1, 2, 3] }; }, close: async () => {} };
 *   },
 * };
 */
export interface Source<T> {
  /** A short name of the kind of source, shown in `job.explain()` and metrics ('file', 'http', …). */
  readonly kind: string;
  /** Whether the source ends by itself. The end of every bounded source emits the final watermark. */
  readonly bounded: boolean;
  /**
   * Whether a reader can tell its position (`snapshotPosition`) and start again from one
   * (`SourceContext.restoredPosition`): required for exactly-once and for recovery without
   * loss. A source that is not replayable restarts from its beginning after a failure.
   */
  readonly replayable?: boolean;
  /**
   * Whether the source can run as several readers at once, each reading its own share
   * (see {@link SourceContext.subtask}). Default false: it runs as one reader whatever the
   * job's parallelism, and the steps after it spread its records.
   */
  readonly parallel?: boolean;
  /**
   * For a `parallel` source whose position is kept per split (a Kafka partition's offset):
   * the position reader `reader` starts from after a restore at another parallelism, given
   * the positions every reader of the checkpoint reported (undefined where one had none).
   * Without it, such a checkpoint restores only at the parallelism it was taken at
   * (STATE_RESCALE_UNSUPPORTED otherwise). Flink reassigns splits the same way.
   */
  redistributePositions?(positions: readonly unknown[], reader: { readonly index: number; readonly parallelism: number }): unknown;
  /** One line about this source's configuration, for `job.explain()`. */
  describe?(): string;
  /**
   * Optional: ends the input gracefully. The source takes no new input (HTTP ingest answers
   * 503) and its readers end once they have handed out everything it accepted, so the job
   * can finish as a bounded one does: a final checkpoint, then the sinks commit. `sluice run`
   * calls it on SIGTERM and Ctrl-C, so that nothing a source acknowledged is lost by a stop.
   */
  stop?(): void;
  /**
   * Makes the reader of one run: called when the job starts and again at each restart,
   * once per reader (each parallel reader of a `parallel` source gets its own `ctx`).
   * Keep it cheap: connecting belongs in the reader's `open`.
   */
  createReader(ctx: SourceContext): SourceReader<T>;
}

/** What the engine tells a source's reader: which reader it is, its clock and limits, cancellation, bad input, where to resume. */
export interface SourceContext {
  /** The source step's uid. */
  readonly uid: string;
  /** Which reader this is, of how many (`{ index: 0, parallelism: 1 }` unless the source is `parallel`). */
  readonly subtask: { readonly index: number; readonly parallelism: number };
  /** The job's clock: read time from it, not `Date.now()` (tests run on a manual clock). */
  readonly clock: Clock;
  /** The most records one poll should return. */
  readonly maxBatchSize: number;
  /**
   * When nothing is available, a poll should resolve (with no values) within about this
   * many milliseconds, so that the engine can check idleness, timers and cancellation.
   */
  readonly maxPollWaitMs: number;
  /** Aborted when the job is cancelled or fails; readers stop waiting then. */
  readonly signal: AbortSignal;
  /**
   * Reports input that could not be parsed or validated. Under the job's `fail` policy
   * this throws a BAD_RECORD error (let it propagate); under `dead-letter` the raw input,
   * the error and the position go to the dead-letter output and the reader carries on.
   */
  badRecord(raw: string | Uint8Array, error: unknown, position: string): void;
  /**
   * For a replayable source restored from a checkpoint: the position its reader reported
   * then. The reader starts reading right after it. Undefined on a fresh start.
   */
  readonly restoredPosition?: unknown;
}

/** What one `poll` returns: records, possibly their timestamps, the end of a bounded source, a watermark. */
export interface SourceBatch<T> {
  /** The records read (possibly none). */
  values: T[];
  /** Event timestamps the medium carries (epoch ms), parallel to `values`; omitted when it carries none. */
  timestamps?: number[];
  /** True once a bounded source has nothing more; `values` may still hold a last few records. */
  done?: boolean;
  /**
   * A watermark the medium itself provides (emitted after `values`): for sources that
   * know their event-time progress, and for the test harness. Most sources leave it out
   * and let a WatermarkStrategy decide. Lower values than before are ignored.
   */
  watermark?: number;
}

/**
 * Reads a source for one run, made by {@link Source.createReader}. The engine calls
 * `open`, then `poll` in a loop until a batch says `done`, `snapshotPosition` at each
 * checkpoint, and `close` once at the end.
 */
export interface SourceReader<T> {
  /** Called once before the first poll: connect, open files, start servers. A rejection fails the job (SOURCE_FAILED unless it is a SluiceError). */
  open?(): Promise<void>;
  /** The next records; see {@link SourceContext.maxPollWaitMs} for how long it may wait. */
  poll(): Promise<SourceBatch<T>>;
  /**
   * The position after the last record returned by `poll` (an offset, an index): what a
   * checkpoint stores. Must be structured-clone friendly.
   */
  snapshotPosition?(checkpointId: number): unknown;
  /**
   * Checkpoint `checkpointId` is durable: everything read up to its position is safe, so
   * a source that acknowledges to its medium (a JetStream ack, a Redis XACK) does it here.
   * At the end of a bounded job the final checkpoint is announced as Number.MAX_SAFE_INTEGER:
   * everything read is safe.
   */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /**
   * How many records are left to read, where the reader can tell (a bounded collection,
   * a broker's consumer lag); undefined when it cannot. Read for the backlog metric and
   * the progress of `sluice run`, never on the hot path.
   */
  backlog?(): number | undefined;
  /** Releases what the reader holds (files, sockets, servers). Called once, also after a failure. */
  close(): Promise<void>;
}
