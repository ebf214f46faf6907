import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { expect, it } from 'vitest';
import { kafkaSink } from '../../../src/connectors/kafka/index.js';
import { testSinkContext } from '../../../src/testing/index.js';
import { BROKERS, freshTopic, readCommitted } from './helpers.js';

async function topicConfig(topic: string): Promise<{ partitions: number; configs: Record<string, string> }> {
  const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
  try {
    const meta = await admin.metadata({ topics: [topic] });
    const [described] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms', 'cleanup.policy'] }] });
    return { partitions: meta.topics.get(topic)!.partitionsCount, configs: Object.fromEntries(described!.configs.map((c) => [c.name, c.value ?? ''])) };
  } finally {
    await admin.close();
  }
}

it('creates a missing topic with the declared partitions and retention.ms, and leaves an existing topic as it is', async () => {
  const topic = `t-sink-retention-${randomUUID().slice(0, 8)}`;
  const sink = kafkaSink<{ id: number }>({ brokers: BROKERS, topic, key: (r) => String(r.id), createTopic: { partitions: 3, retention: '2d' } });
  const w = sink.createWriter(testSinkContext({ uid: 'out' }));
  await w.open!();
  await w.write([{ id: 1 }, { id: 2 }], [0, 0]);
  await w.flush!();
  await w.close();
  expect(await topicConfig(topic)).toEqual({ partitions: 3, configs: { 'retention.ms': String(2 * 86_400_000), 'cleanup.policy': 'delete' } });
  expect(await readCommitted(topic, 2, 500)).toHaveLength(2);

  // A compacted topic keeps the latest value per key; with a retention it also deletes by age.
  const compacted = `t-sink-compacted-${randomUUID().slice(0, 8)}`;
  const w2 = kafkaSink<{ id: number }>({ brokers: BROKERS, topic: compacted, createTopic: { compacted: true, retention: '7d' } }).createWriter(testSinkContext({ uid: 'out' }));
  await w2.open!();
  await w2.close();
  expect((await topicConfig(compacted)).configs).toEqual({ 'retention.ms': String(7 * 86_400_000), 'cleanup.policy': 'compact,delete' });

  // An existing topic (someone else's) keeps its own settings.
  const existing = await freshTopic('sink-existing', 2);
  const before = await topicConfig(existing);
  const w3 = kafkaSink<{ id: number }>({ brokers: BROKERS, topic: existing, createTopic: { partitions: 5, retention: '1h' } }).createWriter(testSinkContext({ uid: 'out' }));
  await w3.open!();
  await w3.close();
  expect(await topicConfig(existing)).toEqual(before);

  expect(() => kafkaSink({ brokers: BROKERS, topic, createTopic: { partitions: 0 } })).toThrow(/partitions must be a positive integer/);
}, 60_000);
