/**
 * PostgreSQL: {@link postgresSink} upserts rows in batches, exactly-once by idempotence (see its notes on two-phase commit).
 *
 * @module
 */
export { postgresSink, type PostgresSink, type PostgresSinkOptions } from './sink.js';
