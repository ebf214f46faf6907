/**
 * NATS JetStream: {@link natsSource} reads a stream through a durable pull consumer
 * (replayable by stream sequence), {@link natsSink} publishes with message-id
 * deduplication (effectively exactly-once within the stream's duplicate window).
 *
 * @module
 */
export { natsSource, type NatsPosition, type NatsSource, type NatsSourceOptions } from './source.js';
export { natsSink, type NatsSink, type NatsSinkOptions } from './sink.js';
export { type NatsConnectionOptions } from './connection.js';
export { type TlsOptions } from '../../net/tls.js';
