import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, generator } from '../../../src/index.js';
import { collectSink } from '../../../src/connectors/collect/index.js';
import { kafkaSink, kafkaSource } from '../../../src/connectors/kafka/index.js';
import type { DeadLetter } from '../../../src/runtime/dead-letter-queue.js';
import { startFakeRegistry, type FakeRegistry } from '../../formats/fake-registry.js';
import { formatCases, order, type Order } from '../format-cases.js';
import { BROKERS, freshTopic, produce, readCommitted } from './helpers.js';

const N = 50;
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
      const writer = new Job({ name: `kafka-${c.name}-out` });
      writer.source(generator({ make: order, count: N }), { uid: 'orders' }).sinkTo(kafkaSink<Order>({ brokers: BROKERS, topic, key: (o) => o.id, format: c.writer() }), { uid: 'out' });
      await writer.run();
      await produce(topic, [{ value: c.garbage, partition: 0 }]);
      if (c.name === 'confluent-avro') {
        const [first] = await readCommitted(topic, N + 1, 200);
        expect(first!.value[0]).toBe(0); // the Confluent magic byte, then the registered id
      }

      const reader = new Job({ name: `kafka-${c.name}-in`, onError: 'dead-letter' });
      const out = collectSink<Order>();
      const dead = collectSink<DeadLetter>();
      reader.source(kafkaSource<Order>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest', bounded: true, format: c.reader() }), { uid: 'in' }).sinkTo(out);
      reader.deadLetters().sinkTo(dead);
      await reader.run();

      expect(out.values.map((o) => o.qty).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(out.values.find((o) => o.qty === 7)).toEqual(order(7));
      expect(dead.values).toHaveLength(1);
      expect(dead.values[0]!.step).toBe('in');
      expect(dead.values[0]!.error.code).toBe('BAD_RECORD');
      expect(dead.values[0]!.position).toMatch(new RegExp(`^${topic}/0@\\d+$`));
      if (c.name === 'confluent-avro') expect(dead.values[0]!.error.message).toMatch(/schema id 9999 is not known.*404/);
    }, 60_000);
  }

  it('confluent-avro: kafkaSource fetches the schemas of messages another producer framed (prepare before decode)', async () => {
    const confluent = formatCases(() => registry.url).find((f) => f.name === 'confluent-avro')!;
    const producerFormat = confluent.writer();
    await producerFormat.open!();
    const topic = await freshTopic('fmt-confluent-in', 1);
    await produce(topic, Array.from({ length: N }, (_, i) => ({ value: producerFormat.encode(order(i)) })));

    const reader = new Job({ name: 'kafka-confluent-in', onError: 'dead-letter' });
    const out = collectSink<Order>();
    const dead = collectSink<DeadLetter>();
    reader.source(kafkaSource<Order>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest', bounded: true, format: confluent.reader() }), { uid: 'in' }).sinkTo(out);
    reader.deadLetters().sinkTo(dead);
    await reader.run();
    expect(dead.values.map((d) => d.error.message)).toEqual([]);
    expect(out.values).toEqual(Array.from({ length: N }, (_, i) => order(i)));
  }, 60_000);
});
