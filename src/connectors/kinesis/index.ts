/**
 * Amazon Kinesis Data Streams (AWS SDK v3): {@link kinesisSource} reads every shard,
 * replayable by sequence number, parents before children after a reshard;
 * {@link kinesisSink} writes with PutRecords, sending refused records again in order per
 * partition key (at-least-once).
 *
 * @module
 */
export { kinesisSource, type KinesisPosition, type KinesisSource, type KinesisSourceOptions } from './source.js';
export { kinesisSink, type KinesisSink, type KinesisSinkOptions } from './sink.js';
export { type KinesisConnectionOptions } from './connection.js';
