/**
 * Apache Cassandra: {@link cassandraSink} upserts rows by primary key in token-aware
 * UNLOGGED batches, exactly-once by idempotence, with deletes (tombstones) and TTL retention.
 * Through the DataStax driver (`cassandra-driver`, an optional peer).
 *
 * @module
 */
export { cassandraSink, type CassandraSink, type CassandraSinkOptions } from './sink.js';
