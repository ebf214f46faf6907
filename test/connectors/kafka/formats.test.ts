import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaSink, kafkaSource } from '../../../src/connectors/kafka/index.js';
import { startFakeRegistry, type FakeRegistry } from '../../formats/fake-registry.js';
import { formatCases, roundTrip, type Order } from '../format-cases.js';
import { BROKERS, freshTopic, produce, readCommitted } from './helpers.js';

const N = 50; // roundTrip's default
let registry: FakeRegistry;
beforeAll(async () => {
  registry = await startFakeRegistry();
});
afterAll(() => registry.close());

/**
 * Every format through the real Kafka connectors (issue 18): a job writes N records with
 * kafkaSink, one bad message is added, and a bounded kafkaSource job reads them back. The
 * Confluent case failed before the connectors ran the format's lifecycle (the sink with
 * BAD_RECORD "open() to have registered", the source with every record dead-lettered).
 */
describe('kafka connectors with every format (real broker)', () => {
  for (const c of formatCases(() => registry.url)) {
    it(`${c.name}: kafkaSink writes, kafkaSource reads back, bad bytes become one dead letter`, async () => {
      const topic = await freshTopic(`fmt-${c.name}`, 2);
      await roundTrip(c, {
        sink: (format) => kafkaSink<Order>({ brokers: BROKERS, topic, key: (o) => o.id, format }),
        publish: (messages) => produce(topic, messages.map((value) => ({ value, partition: 0 }))),
        source: (format) => kafkaSource<Order>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest', bounded: true, format }),
        position: new RegExp(`^${topic}/0@\\d+$`),
      });
      if (c.name === 'confluent-avro') {
        const [first] = await readCommitted(topic, N + 1, 200);
        expect(first!.value[0]).toBe(0); // the Confluent magic byte, then the registered id
      }
    }, 60_000);
  }

  it('confluent-avro: kafkaSource fetches the schemas of messages another producer framed (prepare before decode)', async () => {
    const topic = await freshTopic('fmt-confluent-in', 1);
    await roundTrip(formatCases(() => registry.url).find((f) => f.name === 'confluent-avro')!, {
      publish: (messages) => produce(topic, messages.map((value) => ({ value }))),
      source: (format) => kafkaSource<Order>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest', bounded: true, format }),
      position: new RegExp(`^${topic}/0@50$`),
    });
  }, 60_000);
});
