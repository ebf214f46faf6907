import type { ChainableCommander, Redis } from 'ioredis';
import { describeSecret } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { Dependency } from '../../resilience/dependency.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { checkRedisConnection, connectRedis } from './client.js';
import type { RedisConnection } from './connection.js';
import { describeTls } from '../shared/describe-tls.js';

/** One hash per record: `HSET key field value …` (with `replace`, the hash is first deleted, in one MULTI). */
export interface RedisHashTarget<T> {
  type: 'hash';
  /** The key of a record's hash; anything but a non-empty string fails the job with BAD_RECORD. */
  key: (value: T) => string;
  /** The fields to set (default: the record's own fields, non-strings as JSON). */
  fields?: (value: T) => Record<string, string | number>;
  /** Delete the hash first, so fields the record lacks do not linger (default false). */
  replace?: boolean;
}

/** One member per record in a sorted set: `ZADD key score member` (a leaderboard, a time index). */
export interface RedisSortedSetTarget<T> {
  type: 'sorted-set';
  /** The key of the sorted set a record goes to; anything but a non-empty string fails the job with BAD_RECORD. */
  key: (value: T) => string;
  /** The member that stands for the record: a later record with the same member moves it to its score. */
  member: (value: T) => string;
  /** The member's score; one that is not a finite number fails the job with BAD_RECORD. */
  score: (value: T) => number;
}

/** Options of {@link redisSink}: where Redis is (`url`), and the target each record is written to. */
export type RedisSinkOptions<T> = RedisConnection & {
  target: RedisHashTarget<T> | RedisSortedSetTarget<T>;
  /**
   * Redis as a dependency: every MULTI/EXEC goes through its circuit breaker and bulkhead
   * (see `dependency()`). While the breaker is open a write fails at once with
   * CIRCUIT_OPEN, which fails the job (its restart policy decides what next); its states
   * show in the metrics and on the dashboard.
   */
  dependency?: Dependency;
};

/** The sink {@link redisSink} returns: upserts into hashes or sorted sets, exactly-once by idempotence. */
export interface RedisSink<T> extends Sink<T> {
  readonly kind: 'redis';
}

/**
 * Upserts records into Redis hashes (HSET) or sorted sets (ZADD), one MULTI/EXEC per
 * batch, so a batch lands whole or not at all.
 *
 * Guarantee: exactly-once by idempotence. Both commands set a value (never add to one),
 * so writing a record again leaves the same state, and replaying the records after a
 * checkpoint in the same order leaves each key as an uninterrupted run leaves it.
 * Between a restart and the end of the replay a reader may see a key go back to an
 * older value and then forward again. (Counters such as HINCRBY or ZINCRBY would not
 * be idempotent, which is why they are not offered.) Writes are awaited at each
 * checkpoint barrier (`preCommit`), so a completed checkpoint covers them.
 *
 * @example
 * stream.sinkTo(redisSink<Score>({ target: { type: 'sorted-set', key: () => 'leaders', member: (s) => s.user, score: (s) => s.points } }), { uid: 'leaders' });
 */
export function redisSink<T>(opts: RedisSinkOptions<T>): RedisSink<T> {
  const t = opts?.target;
  if (!t || (t.type !== 'hash' && t.type !== 'sorted-set') || typeof t.key !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', "redisSink: target must be { type: 'hash', key } or { type: 'sorted-set', key, member, score }");
  }
  if (t.type === 'sorted-set' && (typeof t.member !== 'function' || typeof t.score !== 'function')) {
    throw new SluiceError('INVALID_ARGUMENT', 'redisSink: a sorted-set target needs member and score functions');
  }
  checkRedisConnection(opts, 'redisSink');
  return {
    kind: 'redis',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `redis ${t.type} upserts (${describeSecret(opts.url ?? 'redis://127.0.0.1:6379')}${describeTls(opts.tls)})`,
    createWriter: (ctx) => new RedisWriter<T>(opts, ctx),
  };
}

function defaultFields(value: unknown): Record<string, string | number> {
  if (value === null || typeof value !== 'object') throw new Error(`a hash needs an object record, got ${typeof value}`);
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v);
  }
  return out;
}

class RedisWriter<T> implements SinkWriter<T> {
  private redis: Redis | undefined;
  private inFlight: Promise<unknown>[] = [];

  constructor(
    private readonly opts: RedisSinkOptions<T>,
    private readonly ctx: SinkContext,
  ) {}

  async open(): Promise<void> {
    this.opts.dependency?.useClock(this.ctx.clock);
    this.redis = await connectRedis(this.opts, this.ctx.uid, 'sink');
  }

  write(values: T[]): Promise<void> | void {
    if (values.length === 0) return;
    const multi = this.redis!.multi();
    for (const v of values) this.add(multi, v);
    const d = this.opts.dependency;
    const p = (d ? d.execute(() => multi.exec()) : multi.exec()).then((results) => {
      const failed = results?.find(([e]) => e);
      if (!results || failed) throw new SluiceError('SINK_FAILED', `redis sink '${this.ctx.uid}': a write failed: ${failed?.[0]?.message ?? 'the transaction was aborted'}`, { step: this.ctx.uid });
    });
    this.inFlight.push(p);
    // Hold the pipeline only when many batches are in flight (backpressure).
    if (this.inFlight.length >= 16) return this.settle();
  }

  private add(multi: ChainableCommander, v: T): void {
    const t = this.opts.target;
    const key = t.key(v);
    if (typeof key !== 'string' || key === '') throw new SluiceError('BAD_RECORD', `redis sink '${this.ctx.uid}': the key function returned ${JSON.stringify(key)}; expected a non-empty string`, { step: this.ctx.uid });
    if (t.type === 'hash') {
      const fields = (t.fields ?? defaultFields)(v);
      if (Object.keys(fields).length === 0) return;
      if (t.replace) multi.del(key);
      multi.hset(key, fields);
    } else {
      const score = t.score(v);
      if (!Number.isFinite(score)) throw new SluiceError('BAD_RECORD', `redis sink '${this.ctx.uid}': score ${String(score)} is not a finite number`, { step: this.ctx.uid });
      multi.zadd(key, score, t.member(v));
    }
  }

  private async settle(): Promise<void> {
    const all = this.inFlight;
    this.inFlight = [];
    await Promise.all(all);
  }

  /** At a barrier: every write so far is applied (idempotent, so nothing to hold back). */
  async preCommit(): Promise<undefined> {
    await this.settle();
    return undefined;
  }

  async flush(): Promise<void> {
    await this.settle();
  }

  async close(): Promise<void> {
    const r = this.redis;
    this.redis = undefined;
    await Promise.allSettled(this.inFlight);
    if (r) await r.quit().catch(() => r.disconnect());
  }
}
