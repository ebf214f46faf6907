/**
 * Keyed state: descriptors, key groups and the in-memory backends (plain, and with
 * incremental checkpoints). The shared backend test suite is `describeStateBackend` in
 * `sluice/testing` (`src/testing/backend-suite.ts`).
 *
 * @module
 */
export type * from './types.js';
export { valueState, listState, mapState, reducingState, aggregatingState, checkTtl, type StateOptions } from './descriptors.js';
export {
  DEFAULT_MAX_PARALLELISM,
  MAX_MAX_PARALLELISM,
  type KeyGroupRange,
  hashKey,
  murmur3Utf8,
  keyGroupOf,
  keyGroupRange,
  subtaskForKeyGroup,
  subtaskForKey,
  checkParallelism,
  checkMaxParallelism,
} from './key-groups.js';
export { MemoryStateBackend, type MemoryStateBackendOptions } from './memory-backend.js';
export { IncrementalMemoryStateBackend, type IncrementalMemoryStateBackendOptions } from './incremental-memory-backend.js';
export { DiskStateBackend, type DiskStateBackendOptions, type DiskCheckpoint } from './disk/lmdb-backend.js';
export type { KvEngine, KvRecord, KvWrite, CheckpointView } from './disk/kv-engine.js';
export { RocksDbStateBackend, type RocksDbStateBackendOptions } from './disk/rocksdb-backend.js';
export { RedisStateBackend, type RedisStateBackendOptions, type RedisStateClient, type RedisStatePipeline, type RedisFlushStats } from './external/redis-backend.js';
export { CassandraStateBackend, ensureCassandraStateSchema, type CassandraStateBackendOptions, type CassandraStateClient } from './external/cassandra-backend.js';
export type { ExternalFlushStats, ExternalStateBackendOptions } from './external/versioned-backend.js';
