import type { Redis } from 'ioredis';
import type { Lookup } from '../lookup.js';
import { checkRedisConnection, connectRedis } from './client.js';
import type { RedisConnection } from './connection.js';

/** Options of {@link redisKeyLookup}: where Redis is, which key a lookup key reads, and how its string becomes a value. */
export interface RedisKeyLookupOptions<V> extends RedisConnection {
  /** Names the lookup in errors and metrics (default 'redis'). */
  name?: string;
  /** The Redis key of a lookup key (default: the key itself). */
  redisKey?: (key: string) => string;
  /** Turns the stored string into a value (default: the string). */
  parse?: (raw: string) => V;
  /** Keys per MGET (default 500). */
  maxBatch?: number;
}

/**
 * A {@link Lookup} over Redis string keys for `lookupJoin`: the keys of a batch are read
 * with one MGET. It connects on the first lookup; `close()` disconnects.
 *
 * @example
 * const users = redisKeyLookup<User>({ redisKey: (id) => `user:${id}`, parse: JSON.parse });
 * lookupJoin(clicks, users, { uid: 'users', key: (c) => c.user, join: (c, u) => ({ ...c, u }), onMiss: 'null' });
 */
export function redisKeyLookup<V = string>(options: RedisKeyLookupOptions<V> = {}): Lookup<string, V> {
  const name = options.name ?? 'redis';
  checkRedisConnection(options, 'redisKeyLookup');
  const redisKey = options.redisKey;
  const parse = options.parse;
  let client: Promise<Redis> | undefined;
  return {
    name,
    maxBatch: options.maxBatch ?? 500,
    async get(keys) {
      client ??= connectRedis(options, name, 'lookup');
      const redis = await client;
      const raw = await redis.mget(redisKey ? keys.map(redisKey) : [...keys]);
      return raw.map((r) => (r === null ? undefined : parse ? parse(r) : (r as V)));
    },
    async close() {
      const c = client;
      client = undefined;
      if (c) await (await c).quit().catch(() => {});
    },
  };
}
