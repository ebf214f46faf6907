/**
 * Helpers for the Kafka connector tests, against the real broker that the vitest global
 * setup starts (`test/setup/kafka.ts`), or another one (`brokers`, e.g. a private broker
 * of `private-broker.ts`): unique topics, producing raw records, and reading a topic back
 * with read_committed.
 */
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Producer, type Message } from '@platformatic/kafka';
import { readCommittedFixed } from '../../../src/connectors/kafka/read-committed.js';

export const BROKERS = ['127.0.0.1:9092'];

/** A topic name no other test uses, created with `partitions` partitions. */
export async function freshTopic(name: string, partitions: number, brokers: string[] = BROKERS): Promise<string> {
  const topic = `t-${name}-${randomUUID().slice(0, 8)}`;
  const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: brokers });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
  return topic;
}

/** Writes raw records (value text or bytes, optional partition and timestamp) with an idempotent producer. */
export async function produce(topic: string, records: Array<{ value: string | Uint8Array; partition?: number; timestamp?: number; key?: string }>, brokers: string[] = BROKERS): Promise<void> {
  const producer = new Producer({ clientId: 'sluice-test', bootstrapBrokers: brokers, idempotent: true });
  try {
    for (let i = 0; i < records.length; i += 1000) {
      await producer.send({
        messages: records.slice(i, i + 1000).map((r) => ({
          topic,
          value: typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          ...(r.key === undefined ? {} : { key: Buffer.from(r.key) }),
          ...(r.partition === undefined ? {} : { partition: r.partition }),
          ...(r.timestamp === undefined ? {} : { timestamp: BigInt(r.timestamp) }),
        })),
      });
    }
  } finally {
    await producer.close();
  }
}

/**
 * Reads the whole topic from the earliest offset with isolation.level=read_committed, until
 * at least `expected` records came and nothing more arrived for `quietMs`.
 */
export async function readCommitted(topic: string, expected: number, quietMs = 1500, timeoutMs = 30_000, brokers: string[] = BROKERS): Promise<Message<Buffer, Buffer, Buffer, Buffer>[]> {
  // The client's own read_committed lets aborted transactions through (read-committed.test.ts).
  const consumer = readCommittedFixed(new Consumer({ clientId: 'sluice-test', bootstrapBrokers: brokers, groupId: `reader-${randomUUID()}`, isolationLevel: 1, autocommit: false, maxWaitTime: 100 }));
  const out: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', isolationLevel: 1 });
    let last = Date.now();
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      out.push(m);
      last = Date.now();
    });
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      await new Promise((r) => setTimeout(r, 100));
      if (out.length >= expected && Date.now() - last >= quietMs) break;
    }
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return out;
}

/** How many record batches of `topic`'s partition 0 were written in a transaction (data batches and markers alike), read raw from the start. */
export async function transactionalBatches(topic: string, brokers: string[] = BROKERS): Promise<number> {
  const consumer = new Consumer({ clientId: 'sluice-test', bootstrapBrokers: brokers, groupId: `raw-${randomUUID()}` });
  try {
    const t = (await consumer.metadata({ topics: [topic] })).topics.get(topic)!;
    const response = await consumer.fetch({
      node: t.partitions[0]!.leader,
      topics: [{ topicId: t.id, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 16 * 1024 * 1024 }] }],
      isolationLevel: 0,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 16 * 1024 * 1024,
    });
    const batches = response.responses[0]?.partitions[0]?.records ?? [];
    if (batches.length === 0) throw new Error(`${topic}: no record batches read`);
    return batches.filter((b) => (b.attributes & 0x10) !== 0).length;
  } finally {
    await consumer.close(true);
  }
}
