import { randomUUID } from 'node:crypto';
import type { Format } from '../../../src/formats/index.js';
import { kafkaSink, kafkaSource } from '../../../src/connectors/kafka/index.js';
import { describeFormats, type Order } from '../format-cases.js';
import { BROKERS, freshTopic, produce } from './helpers.js';

const source = (topic: string) => (format: Format<Order>) =>
  kafkaSource<Order>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest', bounded: true, format });

/**
 * Every format through the real Kafka connectors (issue 18): a job writes the records with
 * kafkaSink, one bad message is added, and a bounded kafkaSource job reads them back. The
 * Confluent case failed before the connectors ran the format's lifecycle: the sink with
 * BAD_RECORD "open() to have registered", the source with every record dead-lettered
 * ("prepare() was not called").
 */
describeFormats('kafkaSink and kafkaSource with every format (real broker)', async (c) => {
  const topic = await freshTopic(`fmt-${c.name}`, 2);
  return {
    sink: (format) => kafkaSink<Order>({ brokers: BROKERS, topic, key: (o) => o.id, format }),
    publish: (messages) => produce(topic, messages.map((value) => ({ value, partition: 0 }))),
    source: source(topic),
    position: new RegExp(`^${topic}/0@\\d+$`),
  };
});

/** Messages another producer framed: the source's format must fetch their schemas by id (prepare) before decoding. */
describeFormats(
  'kafkaSource with formats that need prepare, reading what another producer wrote (real broker)',
  async (c) => {
    const topic = await freshTopic(`fmt-in-${c.name}`, 1);
    return { publish: (messages) => produce(topic, messages.map((value) => ({ value }))), source: source(topic), position: new RegExp(`^${topic}/0@50$`) };
  },
  (c) => c.name.startsWith('confluent'),
);
