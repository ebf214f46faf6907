import { SluiceError } from '../errors/index.js';
import { toMillis, type Duration } from '../time/duration.js';

/**
 * When and how often a failed call is tried again: an immutable policy object, validated
 * when built. Attempts are counted from 1 (the first call); {@link RetryPolicy.delayMs}
 * gives the pause before attempt `n + 1` after attempt `n` failed.
 *
 * @example
 * const policy = exponentialBackoff({ initial: '100ms', max: '5s', maxAttempts: 5, jitter: 0.5 });
 * policy.delayMs(1); // 50 … 100 ms before the second attempt
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  readonly maxAttempts: number;
  /** The pause in ms before attempt `attempt + 1`, after attempt `attempt` failed. */
  delayMs(attempt: number): number;
  /** Whether an error is worth another attempt (default: every error). */
  retryOnError(error: unknown): boolean;
  /** Whether a result is to be tried again (polling until a value is there); the last attempt's result stands. */
  retryOnResult(result: unknown): boolean;
}

/** What every retry policy takes besides its delays. */
export interface RetryOptions<R = unknown> {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Retry only errors this returns true for (default: all). A timeout is a SluiceError with code ASYNC_TIMEOUT. */
  retryOn?: (error: unknown) => boolean;
  /** Retry when a call returns a result this returns true for (default: never). */
  retryOnResult?: (result: R) => boolean;
}

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions<R = unknown> extends RetryOptions<R> {
  /** The first pause. Default 100 ms. */
  initial?: Duration;
  /** The longest pause. Default 30 s. */
  max?: Duration;
  /** Each pause is this many times the one before. Default 2. */
  multiplier?: number;
  /**
   * The share of each pause drawn at random, 0 … 1 (default 0.5): the pause is
   * `d × (1 − jitter + jitter × random())`, so callers that failed together spread out.
   */
  jitter?: number;
  /** The random source in [0, 1) (default `Math.random`; tests pass a fixed one). */
  random?: () => number;
}

/** No retry: a failure is final. */
export const noRetry: RetryPolicy = Object.freeze({
  maxAttempts: 1,
  delayMs: () => 0,
  retryOnError: () => false,
  retryOnResult: () => false,
});

/**
 * The same pause before every retry.
 *
 * @example
 * fixedDelay('200ms', { maxAttempts: 4, retryOn: (e) => !(e instanceof TypeError) })
 */
export function fixedDelay<R = unknown>(delay: Duration, options: RetryOptions<R> = {}): RetryPolicy {
  const ms = toMillis(delay, 'fixedDelay delay');
  return policy(options, () => ms);
}

/**
 * Pauses that grow by `multiplier` from `initial` up to `max`, each with a random share
 * (`jitter`) so that many callers do not retry in step.
 *
 * @example
 * exponentialBackoff({ initial: '50ms', max: '2s', maxAttempts: 6 })
 */
export function exponentialBackoff<R = unknown>(options: ExponentialBackoffOptions<R> = {}): RetryPolicy {
  const initial = toMillis(options.initial ?? 100, 'exponentialBackoff initial');
  const max = toMillis(options.max ?? 30_000, 'exponentialBackoff max');
  const multiplier = options.multiplier ?? 2;
  const jitter = options.jitter ?? 0.5;
  const random = options.random ?? Math.random;
  if (!(multiplier >= 1) || !Number.isFinite(multiplier)) invalid(`multiplier must be a finite number ≥ 1, got ${multiplier}`);
  if (!(jitter >= 0 && jitter <= 1)) invalid(`jitter must be between 0 and 1, got ${jitter}`);
  if (max < initial) invalid(`max (${max} ms) is below initial (${initial} ms)`);
  return policy(options, (attempt) => {
    const d = Math.min(max, initial * multiplier ** (attempt - 1));
    return d * (1 - jitter + jitter * random());
  });
}

function policy<R>(options: RetryOptions<R>, delayMs: (attempt: number) => number): RetryPolicy {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) invalid(`maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  const retryOn = options.retryOn;
  const retryOnResult = options.retryOnResult;
  return Object.freeze({
    maxAttempts,
    delayMs,
    retryOnError: (error: unknown) => (retryOn ? retryOn(error) : true),
    retryOnResult: (result: unknown) => (retryOnResult ? retryOnResult(result as R) : false),
  });
}

function invalid(message: string): never {
  throw new SluiceError('INVALID_ARGUMENT', `retry policy: ${message}`);
}
