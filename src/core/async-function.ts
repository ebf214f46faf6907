import type { Dependency } from '../resilience/dependency.js';
import type { RetryPolicy } from '../resilience/retry.js';
import type { SluiceError } from '../errors/index.js';
import type { Duration } from '../time/duration.js';
import type { StatefulStepOptions } from './step-options.js';

/** What an async function is told besides the record. */
export interface AsyncContext {
  /** Aborted when this attempt times out or the job stops: pass it on to `fetch` and the like. */
  readonly signal: AbortSignal;
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  /** The record's event timestamp, if it has one. */
  readonly timestamp: number | undefined;
}

/** A function that maps one record to one result, asynchronously (`asyncMap`). */
export type AsyncMapFunction<I, O> = (value: I, context: AsyncContext) => Promise<O>;

/** A function that gives any number of results for one record, asynchronously (`asyncProcess`, Flink's AsyncFunction). */
export type AsyncProcessFunction<I, O> = (value: I, context: AsyncContext) => Promise<Iterable<O>>;

/**
 * Options of an async step (`asyncMap`, `asyncProcess`). The step keeps its records in
 * flight in checkpoints, so it needs a uid.
 *
 * @example
 * stream.asyncMap(enrich, { uid: 'enrich', mode: 'unordered', capacity: 50, timeout: '2s',
 *   retry: exponentialBackoff({ initial: '100ms', maxAttempts: 4 }) })
 */
export interface AsyncStepOptions<I = any, O = any> extends StatefulStepOptions {
  /**
   * `ordered` (default): results leave in the order records came. `unordered`: a result
   * leaves as soon as it is ready, but never across a watermark.
   */
  mode?: 'ordered' | 'unordered';
  /**
   * Records a subtask holds at most, in flight or with results waiting for their turn
   * (default 100). When it is full, the step takes no more input: backpressure.
   */
  capacity?: number;
  /** How long one attempt may take before it fails with ASYNC_TIMEOUT (and may be retried). Default: no limit. */
  timeout?: Duration;
  /** Whether and when a failed attempt is tried again (default: no retry). See `fixedDelay`, `exponentialBackoff`. */
  retry?: RetryPolicy;
  /**
   * The external service the function calls: every attempt goes through its circuit
   * breaker and bulkhead (see `dependency()`), shared with the other steps given it.
   */
  dependency?: Dependency;
  /**
   * Graceful degradation: when the last attempt was refused because the dependency is
   * unavailable (CIRCUIT_OPEN, BULKHEAD_FULL), the record's result is this instead of a
   * failure; counted in `sluice_async_degraded_total`. Without it, such a record goes
   * through the step's error policy (`onError`) like any failure.
   */
  fallback?: (value: I, error: SluiceError) => O;
  /**
   * On a keyed stream only: a key's records are called one at a time, in the order they
   * came, so their calls never overlap and their results leave in that order, even
   * `unordered` (records of different keys still run side by side). For services that
   * read and write per key.
   */
  perKeyOrder?: boolean;
}
