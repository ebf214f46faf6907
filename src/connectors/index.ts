/**
 * Connectors: where records come from and where they go. Every connector is built only on
 * the {@link Source} and {@link Sink} contracts (`source.ts`, `sink.ts`), one folder each.
 *
 * Sources: {@link fromCollection}, {@link generator}, {@link fileSource}, {@link httpSource}.
 * Sinks: {@link consoleSink}, {@link collectSink}, {@link callbackSink}, {@link jsonlFileSink}.
 * Test contexts and the shared source and sink suites for connector authors are in
 * `sluice/testing` (`src/testing/`).
 *
 * @module
 */
export type { Source, SourceBatch, SourceContext, SourceReader } from './source.js';
export type { DeliveryGuarantee, Sink, SinkContext, SinkWriter } from './sink.js';
export { Decoder, checkBadRecordPolicy, newIngestStats, type BadRecordPolicy, type IngestStats } from './shared/ingest.js';

export { fromCollection, type CollectionOptions, type CollectionReader, type CollectionSource } from './collection/index.js';
export { generator, type GeneratorOptions, type GeneratorReader, type GeneratorSource } from './generator/index.js';
export {
  fileSource,
  fileSink,
  jsonlFileSink,
  transactionalFileSink,
  type TransactionalFileSink,
  type CsvOptions,
  type FileSink,
  type FileSinkOptions,
  type FileSource,
  type FileSourceOptions,
  type FileSourceReader,
} from './file/index.js';
export {
  httpLookup,
  httpSource,
  type HttpBatchRequest,
  type HttpLookupOptions,
  type HttpSource,
  type HttpSourceAddress,
  type HttpSourceOptions,
  type HttpSourceReader,
  type HttpSourceStats,
  type Utf8Policy,
} from './http/index.js';
export { consoleSink, type ConsoleSink, type ConsoleSinkOptions } from './console/index.js';
export { collectSink, type CollectSink, type CollectedRecord } from './collect/index.js';
export { callbackSink, type CallbackSink } from './callback/index.js';
export * from './kafka/index.js';
export { natsSink, natsSource, type NatsSink, type NatsSinkOptions, type NatsSource, type NatsSourceOptions } from './nats/index.js';
export type { Lookup } from './lookup.js';
export { redisLookup, redisKeyLookup, redisSink, redisStreamSource, type RedisLookup, type RedisKeyLookupOptions, type RedisSink, type RedisSinkOptions, type RedisStreamSource, type RedisStreamSourceOptions } from './redis/index.js';
export { postgresLookup, postgresSink, postgresTimeSeriesSink, type PostgresLookupOptions, type PostgresRowRetention, type PostgresSink, type PostgresSinkOptions, type PostgresTimeSeriesSink, type PostgresTimeSeriesSinkOptions } from './postgres/index.js';
export { influxSink, type InfluxSink, type InfluxSinkOptions, type InfluxRetentionPolicy, type InfluxPoint, type InfluxPrecision } from './influxdb/index.js';
export { cassandraSink, type CassandraSink, type CassandraSinkOptions } from './cassandra/index.js';
export { openSearchSink, type OpenSearchSink, type OpenSearchSinkOptions } from './opensearch/index.js';
export { mqttSource, type MqttSource, type MqttSourceOptions } from './mqtt/index.js';
export { rabbitmqSink, rabbitmqSource, rabbitmqStreamSource, type RabbitmqSink, type RabbitmqSinkOptions, type RabbitmqSource, type RabbitmqSourceOptions, type RabbitmqStreamSource, type RabbitmqStreamSourceOptions } from './rabbitmq/index.js';
export { kinesisSink, kinesisSource, type KinesisSink, type KinesisSinkOptions, type KinesisSource, type KinesisSourceOptions } from './kinesis/index.js';
