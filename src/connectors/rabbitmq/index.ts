/**
 * RabbitMQ over AMQP 0-9-1 (amqplib): {@link rabbitmqSource} reads a queue and
 * acknowledges after the checkpoint that covers a message (at-least-once; exactly-once
 * results with `dedupe` by message id), {@link rabbitmqStreamSource} reads a stream by
 * offset (replayable, exactly-once), {@link rabbitmqSink} publishes with publisher
 * confirms and stable message ids (at-least-once).
 *
 * @module
 */
export { rabbitmqSource, type RabbitmqQueuePosition, type RabbitmqSource, type RabbitmqSourceOptions } from './queue-source.js';
export { rabbitmqStreamSource, type RabbitmqStreamPosition, type RabbitmqStreamSource, type RabbitmqStreamSourceOptions } from './stream-source.js';
export { rabbitmqSink, type RabbitmqSink, type RabbitmqSinkOptions } from './sink.js';
export { type RabbitmqConnectionOptions } from './connection.js';
