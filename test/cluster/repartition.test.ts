/**
 * The repartition exchange through the real broker: two producing tasks write keyed
 * records and watermark markers into a repartition topic, one consuming task reads every
 * partition and merges their watermarks.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, Producer, type Message } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  RepartitionDecoder,
  RepartitionWriter,
  cutSubTopologies,
  ensureInternalTopics,
  internalTopicSpecs,
  repartitionPartition,
  type RepartitionBatch,
} from '../../src/cluster/index.js';
import { Job, collectSink, count, fromCollection, tumbling } from '../../src/index.js';
import { readCommittedFixed } from '../../src/connectors/kafka/read-committed.js';
import { BROKERS } from '../connectors/kafka/helpers.js';

interface Click {
  user: string;
  at: number;
}

const PARTITIONS = 3;

async function repartitionTopic(): Promise<{ topic: string; cluster: string }> {
  const cluster = `rp-${randomUUID().slice(0, 8)}`;
  const job = new Job({ name: 'rp' });
  job.source(fromCollection<Click>([]), { uid: 'clicks' }).keyBy('user').window(tumbling('10s')).aggregate(count(), { uid: 'views' }).sinkTo(collectSink(), { uid: 'out' });
  const topology = cutSubTopologies(job.graph, cluster);
  await ensureInternalTopics({ bootstrapBrokers: BROKERS }, internalTopicSpecs(topology, { partitions: PARTITIONS, replicationFactor: 1 }));
  return { topic: topology.repartitions[0]!.topic, cluster };
}

/** A consuming task: every partition of the topic, decoded as a member's repartition source does. */
async function openReader(topic: string, groupId: string) {
  const consumer = readCommittedFixed(new Consumer({ clientId: 'rp-test', bootstrapBrokers: BROKERS, groupId, autocommit: false, isolationLevel: 1, maxWaitTime: 100 }));
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
  const queue: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => queue.push(m));
  const decoder = new RepartitionDecoder<Click>(Number.POSITIVE_INFINITY);
  decoder.assign([0, 1, 2]);
  return {
    poll: () => decoder.decode(queue.splice(0), Date.now()),
    close: async () => {
      await stream.close();
      await consumer.close();
    },
  };
}

/** Polls until `done` holds for everything read so far (or fails after 30 s). */
async function readUntil<T>(reader: { poll(): RepartitionBatch<T> }, done: (records: RepartitionBatch<T>['records'], watermarks: number[]) => boolean) {
  const records: RepartitionBatch<T>['records'] = [];
  const watermarks: number[] = [];
  for (let i = 0; i < 600 && !done(records, watermarks); i++) {
    await new Promise((r) => setTimeout(r, 50));
    const batch = reader.poll();
    records.push(...batch.records);
    if (batch.watermark !== undefined) watermarks.push(batch.watermark);
  }
  expect(done(records, watermarks)).toBe(true);
  return { records, watermarks };
}

describe('repartition exchange (real broker)', () => {
  it('routes records to the partition of their key group and merges the producers’ watermarks, an idle producer holding nothing back', async () => {
    const { topic, cluster } = await repartitionTopic();
    // One idempotent producer, sends in order (as a member's transaction does).
    const producer = new Producer({ clientId: 'rp-test', bootstrapBrokers: BROKERS, idempotent: true });
    let chain: Promise<unknown> = Promise.resolve();
    const send = (messages: Parameters<typeof producer.send>[0]['messages']) => (chain = chain.then(() => producer.send({ messages }))) as Promise<void>;
    // Two producing tasks, each reading one partition of a two-partition input topic.
    const writer = (task: string, input: number) =>
      new RepartitionWriter<Click>({
        send: async (m) => void (await send(m)),
        topic,
        partitions: PARTITIONS,
        maxParallelism: 128,
        task,
        claim: { inputs: { clicks: 2 }, covers: [`clicks/${input}`], subtask: 0, subtasks: 1, generation: () => 1 },
        keySelector: (c) => c.user,
      });
    const a = writer('m0/out#0', 0);
    const b = writer('m1/out#0', 1);
    const reader = await openReader(topic, cluster);
    await Promise.all([a.open(), b.open()]);
    try {
      const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
      const fromA = users.map((user, i) => ({ user, at: 1000 + i }));
      const fromB = users.map((user, i) => ({ user, at: 2000 + i }));
      await a.write(fromA, fromA.map((c) => c.at));
      await b.write(fromB, fromB.map((c) => c.at));
      await a.watermark(1500);
      await b.watermark(900);

      const first = await readUntil(reader, (records, wms) => records.length === 40 && wms.includes(900));
      expect(first.watermarks).toEqual([900]); // the minimum over both producers, in every partition
      for (const r of first.records) expect(r.partition).toBe(repartitionPartition(r.value.user, PARTITIONS, 128));
      expect(first.records.map((r) => `${r.value.user}@${r.timestamp}`).sort()).toEqual([...fromA, ...fromB].map((c) => `${c.user}@${c.at}`).sort());
      expect(new Set(first.records.map((r) => r.partition)).size).toBe(PARTITIONS); // 20 keys spread over all 3

      await b.idle(); // b has no more input: a alone decides
      const second = await readUntil(reader, (_records, wms) => wms.includes(1500));
      expect(second.watermarks).toEqual([1500]);

      await b.write([{ user: 'user-1', at: 1600 }], [1600]); // b is back: it holds the watermark at its own (900) again
      await a.watermark(3000);
      await b.watermark(2500);
      const third = await readUntil(reader, (records, wms) => records.length === 1 && wms.includes(2500));
      expect(third.watermarks).toEqual([2500]);
    } finally {
      await Promise.all([producer.close(), reader.close()]);
    }
  });
});
