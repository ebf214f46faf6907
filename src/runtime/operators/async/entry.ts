import type { AttemptContext } from './attempt-context.js';

/** One record in an async operator's queue, from its arrival until its results leave. */
export interface RecordEntry<I, O> {
  readonly value: I;
  readonly timestamp: number;
  /** Set once the call (with its retries) is over: what to emit (empty after a dead letter). */
  results: O[] | undefined;
  /** Attempts made so far; a late answer of an earlier attempt is ignored. */
  attempt: number;
  /** Cancels the running attempt's timeout or the pending retry's timer. */
  cancelTimer: (() => void) | undefined;
  /** The running attempt's context (its `signal` aborts on a timeout or when the operator closes); undefined between attempts. */
  context: AttemptContext | undefined;
  /** The unordered queue's segment the entry belongs to. */
  segment: unknown;
}

/** A record's part of an async operator's checkpoint: its value and timestamp, and its results when they were ready but not yet sent. */
export interface SavedRecord {
  readonly v: unknown;
  readonly t: number;
  readonly r?: unknown[];
}

/** A watermark held in the queue, in a checkpoint. */
export interface SavedWatermark {
  readonly w: number;
}

/** An async operator's checkpoint: its queue, oldest first. */
export interface AsyncState {
  readonly queue: readonly (SavedRecord | SavedWatermark)[];
}

/** Makes a fresh entry for a record. */
export function recordEntry<I, O>(value: I, timestamp: number, results?: O[]): RecordEntry<I, O> {
  return { value, timestamp, results, attempt: 0, cancelTimer: undefined, context: undefined, segment: undefined };
}

/** Where a queue sends what may leave: finished records (in a run) and watermarks. */
export interface QueueOutput<I, O> {
  records(entries: readonly RecordEntry<I, O>[]): void;
  watermark(watermark: number): void;
}

/**
 * The queue of an async operator (Flink's StreamElementQueue): records and watermarks in
 * arrival order, releasing finished records as the result mode allows.
 */
export interface ResultQueue<I, O> {
  /** Records in the queue (started and not yet sent on). */
  readonly size: number;
  add(entry: RecordEntry<I, O>): void;
  addWatermark(watermark: number): void;
  /** `entry` has its results: send on what may now leave. */
  completed(entry: RecordEntry<I, O>): void;
  /** The queue oldest first, as a checkpoint keeps it. */
  saved(): (SavedRecord | SavedWatermark)[];
}

/** A record entry as a checkpoint keeps it. */
export function saveEntry(e: RecordEntry<unknown, unknown>): SavedRecord {
  return e.results === undefined ? { v: e.value, t: e.timestamp } : { v: e.value, t: e.timestamp, r: e.results };
}
