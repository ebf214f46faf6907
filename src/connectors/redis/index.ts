/**
 * Redis: {@link redisStreamSource} reads a stream through a consumer group (replayable by
 * entry id), {@link redisSink} upserts into hashes or sorted sets (exactly-once by
 * idempotence), {@link redisLookup} is a cached, batched lookup table for enrichment, and
 * {@link redisKeyLookup} the table of a `lookupJoin` (MGET per batch of keys).
 *
 * @module
 */
export { redisStreamSource, type RedisStreamPosition, type RedisStreamSource, type RedisStreamSourceOptions } from './source.js';
export { redisSink, type RedisHashTarget, type RedisSink, type RedisSinkOptions, type RedisSortedSetTarget } from './sink.js';
export { redisLookup, RedisLookup, type RedisLookupOptions } from './lookup.js';
export { redisKeyLookup, type RedisKeyLookupOptions } from './key-lookup.js';
export { type RedisConnection } from './connection.js';
export { RedisTokenVault, type RedisTokenVaultOptions } from './token-vault.js';
export { type TlsOptions } from '../../net/tls.js';
