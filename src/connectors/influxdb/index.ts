/**
 * InfluxDB 1.x: {@link influxSink} writes points in line protocol over HTTP, batched, with
 * retries on 429/503, the timestamp precision chosen per request, and a retention policy
 * declared per sink. Exactly-once by idempotence.
 *
 * @module
 */
export { influxSink, type InfluxSink, type InfluxSinkOptions, type InfluxRetentionPolicy } from './sink.js';
export { pointLine, precisionFor, type InfluxPoint, type InfluxPrecision } from './line-protocol.js';
