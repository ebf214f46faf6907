import type { Redis } from 'ioredis';
import { SluiceError } from '../../errors/index.js';
import { type Clock, SystemClock } from '../../time/clock.js';
import { checkRedisConnection, connectRedis } from './client.js';
import type { RedisConnection } from './connection.js';

/** Options of {@link redisLookup}: where Redis is, what a key reads, and the cache's limits. */
export interface RedisLookupOptions<V> extends RedisConnection {
  /** The Redis key for a lookup key (default: the key itself). */
  redisKey?: (key: string) => string;
  /** `'string'` (GET, default) or `'hash'` (HGETALL). */
  type?: 'string' | 'hash';
  /** Turns what Redis holds into a value (default: the string, or the hash as an object). */
  parse?: (raw: string | Record<string, string>) => V;
  /** How long a cached entry (or a cached miss) stays fresh, in ms (default 60 000). */
  ttlMs?: number;
  /** The most entries kept (least recently loaded go first; default 100 000). */
  maxEntries?: number;
  /** Keys per round trip (a pipeline; default 500). */
  batchSize?: number;
  /** The clock `ttlMs` runs on (default: the system clock; tests pass a `ManualClock`). */
  clock?: Clock;
}

/**
 * A cached, batched lookup table in Redis for enriching records (user profiles, prices).
 *
 * The engine has no asynchronous operator yet (Flink's AsyncDataStream), and a map or
 * process function is synchronous, so a lookup cannot be awaited per record. The pattern:
 * load what you can before the job runs (`prefetch(keys)`), read the cache synchronously
 * in the function (`get(key)`), and on a miss start a fetch in the background
 * (`get` does this) and handle the record without the value (a default, or a side
 * output to retry). Loads are batched (one pipeline per `batchSize` keys) and
 * deduplicated; entries expire after `ttlMs` and are fetched again on the next `get`.
 * What is missing for a per-record await: an async operator with a bounded number of
 * requests in flight, ordered or unordered results, and in-flight records in checkpoints.
 *
 * @example
 * const users = await redisLookup<User>({ type: 'hash', redisKey: (id) => `user:${id}` });
 * await users.prefetch(knownIds);
 * clicks.map((c) => ({ ...c, country: users.get(c.user)?.country ?? 'unknown' }));
 */
export async function redisLookup<V = string>(opts: RedisLookupOptions<V> = {}): Promise<RedisLookup<V>> {
  return RedisLookup.connect<V>(opts);
}

interface Entry<V> {
  value: V | undefined;
  loadedAt: number;
}

/**
 * A lookup table in Redis behind a cache, made by {@link redisLookup}: `get` answers from
 * the cache at once and loads misses in the background; `prefetch` loads ahead and waits.
 */
export class RedisLookup<V> {
  private readonly cache = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<void>>();
  private queued = new Set<string>();
  private flushScheduled = false;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly batchSize: number;
  private readonly clock: Clock;
  /** Counters: cache hits, misses (including stale entries), keys fetched, round trips. */
  readonly stats = { hits: 0, misses: 0, fetched: 0, roundTrips: 0, errors: 0 };

  /** Connects to Redis and makes the table (what `redisLookup` does). */
  static async connect<V>(opts: RedisLookupOptions<V>): Promise<RedisLookup<V>> {
    checkRedisConnection(opts, 'redisLookup');
    return new RedisLookup<V>(await connectRedis(opts, 'redis-lookup', 'lookup'), opts);
  }

  // Private: its parameter is the client package's type, which the public types must not name.
  private constructor(
    private readonly redis: Redis,
    private readonly opts: RedisLookupOptions<V>,
  ) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.batchSize = opts.batchSize ?? 500;
    this.clock = opts.clock ?? new SystemClock();
    if (!(this.ttlMs > 0) || !(this.maxEntries > 0) || !(this.batchSize > 0)) {
      throw new SluiceError('INVALID_ARGUMENT', 'redisLookup: ttlMs, maxEntries and batchSize must be positive');
    }
  }

  /**
   * The cached value (undefined when Redis has none, or when it is not cached yet). A miss
   * or a stale entry queues a background load, batched with the other misses of this turn.
   */
  get(key: string): V | undefined {
    const e = this.cache.get(key);
    const fresh = e !== undefined && this.clock.now() - e.loadedAt < this.ttlMs;
    if (fresh) {
      this.stats.hits++;
      return e.value;
    }
    this.stats.misses++;
    this.queue(key);
    return e?.value; // a stale value is better than none while it reloads
  }

  /** Whether `key` has a fresh cached entry (a value or a known miss). */
  has(key: string): boolean {
    const e = this.cache.get(key);
    return e !== undefined && this.clock.now() - e.loadedAt < this.ttlMs;
  }

  /** Loads `keys` (those not fresh) in batches and resolves when they are cached. */
  async prefetch(keys: Iterable<string>): Promise<void> {
    const todo = [...new Set(keys)].filter((k) => !this.has(k));
    const waits: Promise<void>[] = [];
    for (let i = 0; i < todo.length; i += this.batchSize) waits.push(this.load(todo.slice(i, i + this.batchSize)));
    await Promise.all(waits);
  }

  /** Resolves when every background load started so far has finished. */
  async settled(): Promise<void> {
    await this.flushQueue();
    await Promise.all([...this.loading.values()]);
  }

  /** Waits for the loads in flight (ignoring their failures), then disconnects from Redis. */
  async close(): Promise<void> {
    await this.settled().catch(() => {});
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private queue(key: string): void {
    if (this.loading.has(key)) return;
    this.queued.add(key);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => void this.flushQueue().catch(() => {}));
    }
  }

  private async flushQueue(): Promise<void> {
    this.flushScheduled = false;
    const keys = [...this.queued];
    this.queued = new Set();
    const waits: Promise<void>[] = [];
    for (let i = 0; i < keys.length; i += this.batchSize) waits.push(this.load(keys.slice(i, i + this.batchSize)));
    await Promise.all(waits);
  }

  private load(keys: string[]): Promise<void> {
    const fresh = keys.filter((k) => !this.loading.has(k));
    const pending = keys.filter((k) => this.loading.has(k)).map((k) => this.loading.get(k)!);
    if (fresh.length === 0) return Promise.all(pending).then(() => {});
    const p = this.fetch(fresh).finally(() => {
      for (const k of fresh) this.loading.delete(k);
    });
    for (const k of fresh) this.loading.set(k, p);
    return Promise.all([p, ...pending]).then(() => {});
  }

  private async fetch(keys: string[]): Promise<void> {
    const redisKey = this.opts.redisKey ?? ((k: string) => k);
    const pipe = this.redis.pipeline();
    for (const k of keys) {
      if (this.opts.type === 'hash') pipe.hgetall(redisKey(k));
      else pipe.get(redisKey(k));
    }
    this.stats.roundTrips++;
    const results = await pipe.exec().catch((e: unknown) => {
      this.stats.errors++;
      throw new SluiceError('SOURCE_FAILED', `redisLookup: fetching ${keys.length} key(s) failed: ${(e as Error).message}`, { cause: e });
    });
    const now = this.clock.now();
    keys.forEach((k, i) => {
      const [err, raw] = results?.[i] ?? [new Error('no reply'), null];
      if (err) {
        this.stats.errors++;
        return;
      }
      const present = raw !== null && !(typeof raw === 'object' && Object.keys(raw as object).length === 0);
      const value = present ? (this.opts.parse ? this.opts.parse(raw as string | Record<string, string>) : (raw as V)) : undefined;
      this.cache.delete(k); // re-insert: the Map's order is the load order
      this.cache.set(k, { value, loadedAt: now });
      this.stats.fetched++;
    });
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}
