import type { AsyncStepOptions } from '../core/async-function.js';
import { SluiceError } from '../errors/index.js';
import type { StreamEdge } from '../plan/graph.js';
import { noRetry } from '../resilience/retry.js';
import type { AsyncConfig } from '../runtime/operators/async/async-config.js';
import { AsyncWaitOperator } from '../runtime/operators/async/async-wait.js';
import { toPositiveMillis } from '../time/duration.js';
import type { JobBuilder } from './job-builder.js';
import type { StepNode } from '../plan/graph.js';

/** The default of `capacity`: records a subtask of an async step holds at most. */
export const DEFAULT_ASYNC_CAPACITY = 100;

/**
 * Adds an async step (`asyncMap`, `asyncProcess`) to `job`, its options checked now:
 * a bad capacity, timeout or retry policy fails the job definition, not the run.
 */
export function addAsyncStep<I, O>(
  job: JobBuilder,
  input: StreamEdge,
  kind: 'asyncMap' | 'asyncProcess',
  fn: AsyncConfig<I, O>['fn'],
  options: AsyncStepOptions<I, O>,
  /** The keyed stream's key selector, for `perKeyOrder`. */
  keyOf?: (value: I) => unknown,
): StepNode {
  if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${kind}() needs an async function (value, context) => Promise, got ${fn === null ? 'null' : typeof fn}`);
  const config = asyncConfig<I, O>(kind, fn, options ?? ({} as AsyncStepOptions), keyOf);
  return job.addStep({
    kind,
    options,
    stateful: true,
    inputs: [input],
    description: `${config.ordered ? 'ordered' : 'unordered'}${config.keyOf ? ' per key' : ''}, capacity ${config.capacity}${config.timeoutMs === undefined ? '' : `, timeout ${config.timeoutMs} ms`}`,
    createOperator: () => new AsyncWaitOperator<I, O>(config),
  });
}

/** An async step's options, checked, as its operator runs them (the harness builds operators from it too). */
export function asyncConfig<I, O>(kind: 'asyncMap' | 'asyncProcess', fn: AsyncConfig<I, O>['fn'], options: AsyncStepOptions<I, O>, keyOf?: (value: I) => unknown): AsyncConfig<I, O> {
  const where = `${kind}('${options.uid ?? '?'}')`;
  if (options.perKeyOrder && keyOf === undefined) {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: perKeyOrder needs a keyed stream`, { hint: 'Call it after `.keyBy(…)`.' });
  }
  const mode = options.mode ?? 'ordered';
  if (mode !== 'ordered' && mode !== 'unordered') throw new SluiceError('INVALID_ARGUMENT', `${where}: mode must be 'ordered' or 'unordered', got ${String(mode)}`);
  const capacity = options.capacity ?? DEFAULT_ASYNC_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1) throw new SluiceError('INVALID_ARGUMENT', `${where}: capacity must be an integer ≥ 1, got ${capacity}`);
  if (options.fallback !== undefined && typeof options.fallback !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${where}: fallback must be a function (value, error) => result`);
  if (options.dependency !== undefined && typeof options.dependency.execute !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: dependency must be made by dependency(name, options)`);
  }
  const retry = options.retry ?? noRetry;
  if (typeof retry.delayMs !== 'function' || !(retry.maxAttempts >= 1)) {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: retry must be a policy such as fixedDelay(…) or exponentialBackoff(…)`);
  }
  return Object.freeze({
    fn,
    single: kind === 'asyncMap',
    ordered: mode === 'ordered',
    capacity,
    timeoutMs: options.timeout === undefined ? undefined : toPositiveMillis(options.timeout, `${where} timeout`),
    retry,
    dependency: options.dependency,
    fallback: options.fallback,
    keyOf: options.perKeyOrder ? keyOf : undefined,
    what: `${kind} function`,
  });
}
