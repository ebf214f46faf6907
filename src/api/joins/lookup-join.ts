import type { AsyncStepOptions } from '../../core/async-function.js';
import type { Lookup } from '../../connectors/lookup.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { fixedDelay, type RetryPolicy } from '../../resilience/retry.js';
import { NOT_READY, type SubtaskCalls } from '../../runtime/operators/async/async-config.js';
import { AsyncWaitOperator } from '../../runtime/operators/async/async-wait.js';
import { KeyBatcher } from '../../runtime/operators/async/key-batcher.js';
import { LookupCache } from '../../runtime/operators/async/lookup-cache.js';
import type { Clock } from '../../time/clock.js';
import { toMillis, type Duration } from '../../time/duration.js';
import { asyncConfig } from '../async-step.js';
import { DataStream } from '../data-stream.js';

/** What a lookup join does with a record whose key the table has not got. */
export type LookupMiss = 'wait' | 'null' | 'dead-letter';

/**
 * How a record was joined, the third argument of a lookup join's `join`: `degraded` is
 * false for a fresh answer (or a miss), `'stale'` for an expired cache entry served while
 * the table was unavailable, `'unavailable'` for a record joined with null because the
 * table was unavailable and no stale entry could stand in (the degraded marker).
 */
export type LookupJoinInfo =
  | { readonly degraded: false }
  | { readonly degraded: 'stale'; readonly ageMs: number; readonly error: unknown }
  | { readonly degraded: 'unavailable'; readonly error: unknown };

/**
 * Graceful degradation of a lookup join, when a record's last attempt failed (the
 * breaker open, the bulkhead full, a timeout, an error of the table; not a miss).
 * Without it such a record goes through the step's error policy.
 */
export interface LookupUnavailablePolicy {
  /** Serve a cached value up to this long past its `ttl` (the cache keeps expired values that long). */
  stale?: Duration;
  /** Where no stale value stands in: join with null and the marker `{ degraded: 'unavailable' }` rather than fail. */
  mark?: boolean;
}

/** Options of {@link lookupJoin}. */
export interface LookupJoinOptions<T, K, V, O> extends Omit<AsyncStepOptions<T, O>, 'fallback'> {
  /** The record's key in the table. */
  key: (record: T) => K;
  /**
   * The joined record: `value` is null for a miss under `onMiss: 'null'`, and for a
   * record marked degraded (`info.degraded === 'unavailable'`, see `whenUnavailable`).
   */
  join: (record: T, value: V | null, info: LookupJoinInfo) => O;
  /**
   * A missing key: `'wait'` asks again on the `retry` policy's pauses (default every
   * second, 30 attempts) until the value is there, then fails with LOOKUP_MISS;
   * `'null'` joins with null; `'dead-letter'` sends the record to the dead letters
   * (the step's `onError` defaults to `'dead-letter'`).
   */
  onMiss: LookupMiss;
  /** Per subtask: at most `maxEntries` keys, fresh for `ttl` (misses too). Default 10 000 keys for 1 minute; `maxEntries: 0`: no cache. */
  cache?: { maxEntries: number; ttl: Duration };
  /**
   * When the table is unavailable: serve stale cache entries, mark records degraded, or
   * both (stale first). Counted in `sluice_async_degraded_total` (and stale entries in
   * `sluice_lookup_stale_total`), never silent.
   */
  whenUnavailable?: LookupUnavailablePolicy;
}

const FRESH: LookupJoinInfo = Object.freeze({ degraded: false });

const WAIT_RETRY = fixedDelay(1_000, { maxAttempts: 30 });
/** An answer of `'wait'`: not there yet, ask again. */
const MISSING = Symbol('missing');

/**
 * Enriches each record with the value of its key in a lookup table (Flink's lookup
 * join): an async step (capacity, timeout, retry, dependency as in `asyncMap`) with a
 * cache per subtask; the keys its records miss in the cache are asked together, in
 * batches (Redis MGET). A cache hit joins at once. What happens to a key the table has
 * not got is the explicit `onMiss` choice. Cache hits and misses are metrics
 * (`sluice_lookup_cache_hits_total`, `sluice_lookup_cache_misses_total`).
 *
 * @example
 * const users = redisKeyLookup<User>({ redisKey: (id) => `user:${id}`, parse: JSON.parse });
 * lookupJoin(clicks, users, { uid: 'users', key: (c) => c.user, join: (c, u) => ({ ...c, country: u?.country }),
 *   onMiss: 'null', cache: { maxEntries: 50_000, ttl: '5m' }, timeout: '500ms' });
 */
export function lookupJoin<T, K, V, O>(stream: DataStream<T>, lookup: Lookup<K, V>, options: LookupJoinOptions<T, K, V, O>): DataStream<O> {
  const where = `lookupJoin('${options?.uid ?? '?'}')`;
  if (!lookup || typeof lookup.get !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${where} needs a Lookup (an object with name and get(keys))`);
  if (typeof options?.key !== 'function' || typeof options.join !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${where} needs key(record) and join(record, value) functions`);
  const onMiss = options.onMiss;
  if (onMiss !== 'wait' && onMiss !== 'null' && onMiss !== 'dead-letter') throw new SluiceError('INVALID_ARGUMENT', `${where}: onMiss must be 'wait', 'null' or 'dead-letter', got ${String(onMiss)}`);
  const maxEntries = options.cache?.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new SluiceError('INVALID_ARGUMENT', `${where}: cache.maxEntries must be an integer ≥ 0, got ${maxEntries}`);
  const ttlMs = toMillis(options.cache?.ttl ?? '1m', `${where} cache.ttl`);
  const unavailable = options.whenUnavailable;
  if (unavailable !== undefined && (typeof unavailable !== 'object' || unavailable === null)) throw new SluiceError('INVALID_ARGUMENT', `${where}: whenUnavailable must be { stale?, mark? }`);
  const staleMs = unavailable?.stale === undefined ? 0 : toMillis(unavailable.stale, `${where} whenUnavailable.stale`);
  if (staleMs > 0 && maxEntries === 0) throw new SluiceError('INVALID_ARGUMENT', `${where}: whenUnavailable.stale needs a cache (cache.maxEntries is 0)`);
  const mark = unavailable?.mark === true;
  const retry = missRetry(options.retry ?? (onMiss === 'wait' ? WAIT_RETRY : undefined));
  const { key, join } = options;
  const step = { ...options, retry, onError: options.onError ?? (onMiss === 'dead-letter' ? 'dead-letter' : undefined) } as AsyncStepOptions<T, O>;
  const base = asyncConfig<T, O>('asyncMap', () => Promise.reject(new Error('unused')), step);

  const perSubtask = (clock: Clock): SubtaskCalls<T, O> => {
    const cache = new LookupCache<K, V>(maxEntries, ttlMs, clock, staleMs);
    const batcher = new KeyBatcher<K, V>(lookup);
    let stale = 0;
    const answer = (record: T, k: K, value: V | null | undefined, attempt: number): O | typeof MISSING => {
      if (value !== undefined && value !== null) return join(record, value, FRESH);
      if (onMiss === 'null') return join(record, null, FRESH);
      if (onMiss === 'wait' && attempt < retry.maxAttempts) return MISSING;
      throw new SluiceError('LOOKUP_MISS', `step '${options.uid}' (lookupJoin): lookup '${lookup.name}' has no value for key ${describeRecord(k)} of record ${describeRecord(record)}`, {
        step: options.uid,
      });
    };
    return {
      figures: {
        get hits() {
          return cache.hits;
        },
        get misses() {
          return cache.misses;
        },
        get stale() {
          return stale;
        },
        latency: batcher.latency,
      },
      degradesOn: (error) => !(error instanceof SluiceError && error.code === 'LOOKUP_MISS'),
      ...(staleMs > 0 || mark
        ? {
            fallback: (record: T, error: unknown): O | typeof NOT_READY => {
              const old = staleMs > 0 ? cache.getStale(key(record)) : undefined;
              if (old !== undefined) {
                stale++;
                return join(record, old.value, { degraded: 'stale', ageMs: old.ageMs, error });
              }
              return mark ? join(record, null, { degraded: 'unavailable', error }) : NOT_READY;
            },
          }
        : {}),
      immediate(record) {
        const k = key(record);
        const v = cache.get(k);
        return v === undefined || (v === null && onMiss !== 'null') ? NOT_READY : answer(record, k, v, 1) as O;
      },
      fn: async (record, { attempt }) => {
        const k = key(record);
        // A record that waited for room may find its key cached by then.
        const cached = cache.get(k);
        if (cached !== undefined && (cached !== null || onMiss === 'null')) return answer(record, k, cached, attempt);
        const v = await batcher.load(k);
        if (v !== undefined || onMiss !== 'wait') cache.set(k, v ?? null);
        return answer(record, k, v, attempt);
      },
    };
  };
  const node = stream.job.addStep({
    kind: 'lookupJoin',
    options: step,
    stateful: true,
    inputs: [stream.edge()],
    description: `${lookup.name}, on miss ${onMiss}, cache ${maxEntries} keys for ${ttlMs} ms${staleMs > 0 ? `, stale up to ${staleMs} ms more when unavailable` : ''}${mark ? ', marked degraded when unavailable' : ''}`,
    createOperator: () => new AsyncWaitOperator<T, O>({ ...base, perSubtask, what: `lookup '${lookup.name}'` }),
  });
  return new DataStream<O>(stream.job, node);
}

/** The step's retry policy, which also asks again on a miss under `'wait'` and never retries LOOKUP_MISS itself. */
function missRetry(policy: RetryPolicy | undefined): RetryPolicy {
  const p = policy ?? fixedDelay(0, { maxAttempts: 1 });
  return Object.freeze({
    maxAttempts: p.maxAttempts,
    delayMs: (attempt: number) => p.delayMs(attempt),
    retryOnError: (e: unknown) => !(e instanceof SluiceError && e.code === 'LOOKUP_MISS') && p.retryOnError(e),
    retryOnResult: (r: unknown) => r === MISSING || p.retryOnResult(r),
  });
}
