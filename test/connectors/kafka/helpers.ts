/**
 * Helpers for the Kafka connector tests, against the real broker that the vitest global
 * setup starts (`test/setup/kafka.ts`), or another one (`brokers`, e.g. a private broker
 * of `private-broker.ts`): unique topics, producing raw records, and reading a topic back
 * with read_committed.
 */
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Producer, type Message } from '@platformatic/kafka';

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

/** Writes raw records (value text, optional partition and timestamp) with an idempotent producer. */
export async function produce(topic: string, records: Array<{ value: string; partition?: number; timestamp?: number; key?: string }>, brokers: string[] = BROKERS): Promise<void> {
  const producer = new Producer({ clientId: 'sluice-test', bootstrapBrokers: brokers, idempotent: true });
  try {
    for (let i = 0; i < records.length; i += 1000) {
      await producer.send({
        messages: records.slice(i, i + 1000).map((r) => ({
          topic,
          value: Buffer.from(r.value),
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
  const consumer = new Consumer({ clientId: 'sluice-test', bootstrapBrokers: brokers, groupId: `reader-${randomUUID()}`, isolationLevel: 1, autocommit: false, maxWaitTime: 100 });
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
