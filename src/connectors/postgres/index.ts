/**
 * PostgreSQL: {@link postgresSink} upserts rows in batches, exactly-once by idempotence (see its notes on two-phase commit), with retention by a time column;
 * {@link postgresTimeSeriesSink} upserts time series by (series key, time) into time-partitioned tables, with retention by dropping partitions;
 * {@link postgresLookup} is the table of a `lookupJoin` (one `WHERE key = ANY($1)` per batch of keys).
 *
 * @module
 */
export { postgresSink, type PostgresSink, type PostgresSinkOptions } from './sink.js';
export type { PostgresRowRetention } from './row-retention.js';
export { postgresLookup, type PostgresLookupOptions } from './lookup.js';
export { postgresTimeSeriesSink, type PostgresTimeSeriesSink, type PostgresTimeSeriesSinkOptions } from './time-series-sink.js';
export { PostgresTokenVault, type PostgresTokenVaultOptions } from './token-vault.js';
export { PostgresKeyStore, type PostgresKeyStoreOptions } from './key-store.js';
export { type PostgresConnectionOptions } from './connection.js';
export { type TlsOptions } from '../../net/tls.js';
