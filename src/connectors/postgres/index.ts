/**
 * PostgreSQL: {@link postgresSink} upserts rows in batches, exactly-once by idempotence (see its notes on two-phase commit).
 *
 * @module
 */
export { postgresSink, type PostgresSink, type PostgresSinkOptions } from './sink.js';
export { PostgresTokenVault, type PostgresTokenVaultOptions } from './token-vault.js';
export { PostgresKeyStore, type PostgresKeyStoreOptions } from './key-store.js';
