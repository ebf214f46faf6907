/**
 * Builders for state descriptors. A descriptor names a piece of keyed state and says its
 * kind and options; the backend turns it into a state object with `getState`. Descriptors
 * are frozen and validated when built, so a bad name or TTL fails the job definition.
 */
import { SluiceError } from '../errors/index.js';
import { toPositiveMillis } from '../time/duration.js';
import type {
  AggregateFunction,
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtl,
  ValueStateDescriptor,
} from './types.js';

/** Options common to every state kind. */
export interface StateOptions {
  /** Entries expire this long (processing time) after their last write (or read, per `updateOn`). */
  ttl?: StateTtl;
  /**
   * The version of this state's shape (default 1). Raise it when the shape changes and
   * give `migrate`: restoring a checkpoint or savepoint of an older version passes every
   * stored entry through it. Declare such state in `open()`.
   */
  version?: number;
  /**
   * Turns a stored entry of an older version into the current shape: the value (value and
   * reducing state), the array (list state), the `[key, value]` pairs (map state), or the
   * accumulator (aggregating state).
   */
  migrate?: (stored: unknown, fromVersion: number) => unknown;
}

/** The version fields of a descriptor, checked. */
function evolution(name: string, opts: StateOptions): { version?: number; migrate?: (stored: unknown, fromVersion: number) => unknown } {
  const { version, migrate } = opts;
  if (version === undefined && migrate === undefined) return {};
  if (version !== undefined && (!Number.isInteger(version) || version < 1)) {
    throw new SluiceError('INVALID_ARGUMENT', `state '${name}': version must be a positive integer, got ${String(version)}`);
  }
  if (migrate !== undefined && typeof migrate !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `state '${name}': migrate must be a function (stored, fromVersion) => value`);
  }
  return { version, migrate };
}

/**
 * A value per key (and namespace).
 *
 * @example
 * const count = valueState<number>('count', { defaultValue: 0 });
 * const last = valueState<string>('last-seen', { ttl: { ttl: '1h' } });
 */
export function valueState<T>(name: string, opts: StateOptions & { defaultValue?: T } = {}): ValueStateDescriptor<T> {
  return Object.freeze({ kind: 'value' as const, name: checkName(name), ttl: checkTtl(name, opts.ttl), ...evolution(name, opts), defaultValue: opts.defaultValue });
}

/**
 * A list per key. With a TTL the whole list expires together (its clock restarts on every
 * add or update), unlike Flink where each element has its own.
 *
 * @example
 * const recent = listState<number>('recent-amounts');
 */
export function listState<T>(name: string, opts: StateOptions = {}): ListStateDescriptor<T> {
  return Object.freeze({ kind: 'list' as const, name: checkName(name), ttl: checkTtl(name, opts.ttl), ...evolution(name, opts) });
}

/**
 * A map per key. With a TTL each map entry expires on its own.
 *
 * @example
 * const lastPricePerItem = mapState<string, number>('last-price', { ttl: { ttl: '10m' } });
 */
export function mapState<MK, V>(name: string, opts: StateOptions = {}): MapStateDescriptor<MK, V> {
  return Object.freeze({ kind: 'map' as const, name: checkName(name), ttl: checkTtl(name, opts.ttl), ...evolution(name, opts) });
}

/**
 * A value per key folded with `reduce` as elements are added.
 *
 * @example
 * const max = reducingState<number>('max', (a, b) => Math.max(a, b));
 */
export function reducingState<T>(name: string, reduce: (a: T, b: T) => T, opts: StateOptions = {}): ReducingStateDescriptor<T> {
  checkName(name);
  if (typeof reduce !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `reducing state '${name}': the reduce function must be a function, got ${typeof reduce}`);
  }
  return Object.freeze({ kind: 'reducing' as const, name, ttl: checkTtl(name, opts.ttl), ...evolution(name, opts), reduce });
}

/**
 * An accumulator per key, fed by `add`, read through `aggregate.getResult`.
 *
 * @example
 * const avg = aggregatingState('avg', {
 *   createAccumulator: () => ({ sum: 0, n: 0 }),
 *   add: (v: number, a) => ({ sum: a.sum + v, n: a.n + 1 }),
 *   getResult: (a) => a.sum / a.n,
 * });
 */
export function aggregatingState<IN, ACC, OUT>(
  name: string,
  aggregateFunction: AggregateFunction<IN, ACC, OUT>,
  opts: StateOptions = {},
): AggregatingStateDescriptor<IN, ACC, OUT> {
  checkName(name);
  const f = aggregateFunction as Partial<AggregateFunction<IN, ACC, OUT>> | null | undefined;
  for (const method of ['createAccumulator', 'add', 'getResult'] as const) {
    if (typeof f?.[method] !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', `aggregating state '${name}': the aggregate function has no ${method}() method`, {
        hint: 'Pass an object with createAccumulator(), add(value, acc), getResult(acc) and optionally merge(a, b).',
      });
    }
  }
  return Object.freeze({ kind: 'aggregating' as const, name, ttl: checkTtl(name, opts.ttl), ...evolution(name, opts), aggregate: aggregateFunction });
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new SluiceError('INVALID_ARGUMENT', `a state name must be a non-empty string, got ${JSON.stringify(name)}`, {
      hint: "Name each state of a step, e.g. valueState('count'); the name identifies it in checkpoints.",
    });
  }
  return name;
}

/**
 * Validates a TTL and returns a frozen copy (undefined when none). Exported for backends,
 * which also accept hand-written descriptors.
 *
 * @example
 * checkTtl('count', { ttl: '1h' }) // { ttl: '1h', updateOn: 'create-and-write' }
 */
export function checkTtl(name: string, ttl: StateTtl | undefined): StateTtl | undefined {
  if (ttl === undefined) return undefined;
  if (ttl === null || typeof ttl !== 'object') {
    throw new SluiceError('INVALID_ARGUMENT', `state '${name}': ttl must be an object such as { ttl: '1h' }, got ${String(ttl)}`);
  }
  toPositiveMillis(ttl.ttl, `the TTL of state '${name}'`);
  const updateOn = ttl.updateOn ?? 'create-and-write';
  if (updateOn !== 'create-and-write' && updateOn !== 'read-and-write') {
    throw new SluiceError('INVALID_ARGUMENT', `state '${name}': ttl.updateOn must be 'create-and-write' or 'read-and-write', got ${JSON.stringify(updateOn)}`);
  }
  return Object.freeze({ ttl: ttl.ttl, updateOn });
}
