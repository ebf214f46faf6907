import type { AsyncContext } from '../../../core/async-function.js';
import type { Histogram } from '../../../observe/histogram.js';
import type { SluiceError } from '../../../errors/index.js';
import type { Dependency } from '../../../resilience/dependency.js';
import type { RetryPolicy } from '../../../resilience/retry.js';
import type { Clock } from '../../../time/clock.js';

/** What {@link SubtaskCalls.immediate} returns when it has no answer at once. */
export const NOT_READY: unique symbol = Symbol('not ready');

/** The calls of one subtask of an async step, when they keep something per subtask (a lookup join's cache). */
export interface SubtaskCalls<I, O> {
  /** Replaces the config's `fn`. */
  readonly fn: (value: I, context: AsyncContext) => Promise<unknown>;
  /** The record's one result at once (a cache hit), or NOT_READY: then `fn` is called. */
  immediate(value: I): O | typeof NOT_READY;
  /** Read by the metrics: cache hits and misses, stale entries served, the lookup's latency. */
  readonly figures: { readonly hits: number; readonly misses: number; readonly stale?: number; readonly latency?: Histogram };
  /**
   * Graceful degradation per subtask (a lookup join's stale cache entry or degraded
   * marker), in place of the config's `fallback`: the record's result when its last
   * attempt failed with an error `degradesOn` accepts, or NOT_READY when it has none (the
   * failure stands).
   */
  fallback?(value: I, error: unknown): O | typeof NOT_READY;
  degradesOn?(error: unknown): boolean;
}

/** An async step as the operator runs it, its options checked (`api/async-step.ts` builds it). */
export interface AsyncConfig<I, O> {
  /** The user's function; with `single`, its result is one record, else an iterable of them. */
  readonly fn: (value: I, context: AsyncContext) => Promise<unknown>;
  readonly single: boolean;
  readonly ordered: boolean;
  readonly capacity: number;
  /** Per attempt; undefined: no limit. */
  readonly timeoutMs: number | undefined;
  readonly retry: RetryPolicy;
  readonly dependency: Dependency | undefined;
  /** The result of a record whose dependency was unavailable at the last attempt. */
  readonly fallback: ((value: I, error: SluiceError) => O) | undefined;
  /** With per-key order: the record's key (a key's calls run one at a time). */
  readonly keyOf?: ((value: I) => unknown) | undefined;
  /** Made per subtask when the operator opens, on its clock (a lookup join's cache and batcher). */
  readonly perSubtask?: ((clock: Clock) => SubtaskCalls<I, O>) | undefined;
  /** How messages name the function ('asyncMap function'). */
  readonly what: string;
  /** Never read: ties O to the config. */
  readonly _output?: O;
}
