import type { AsyncContext } from '../../../core/async-function.js';
import type { SluiceError } from '../../../errors/index.js';
import type { Dependency } from '../../../resilience/dependency.js';
import type { RetryPolicy } from '../../../resilience/retry.js';

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
  /** How messages name the function ('asyncMap function'). */
  readonly what: string;
  /** Never read: ties O to the config. */
  readonly _output?: O;
}
