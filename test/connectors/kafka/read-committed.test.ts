/**
 * `read_committed` against the real broker: a transactional producer aborts and commits
 * transactions in turn; a reader sees exactly the committed records. The client's own
 * filter let the earlier aborted transactions through (25 records read where 15 were
 * committed): Sluice's consumers filter again (`src/connectors/kafka/read-committed.ts`).
 */
import { randomUUID } from 'node:crypto';
import { Consumer, Producer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { loadKafkaClient } from '../../../src/connectors/kafka/client.js';
import { dropAbortedBatches } from '../../../src/connectors/kafka/read-committed.js';
import { BROKERS, freshTopic, readCommitted } from './helpers.js';

/** Six transactions of five records each into one partition: the even ones aborted. Returns the committed values. */
async function abortAndCommitInTurn(topic: string): Promise<string[]> {
  const producer = new Producer({ clientId: 'rc-test', bootstrapBrokers: BROKERS, idempotent: true, transactionalId: `rc-${randomUUID()}`, producerId: -1n, producerEpoch: -1, autocreateTopics: false });
  const committed: string[] = [];
  try {
    for (let t = 0; t < 6; t++) {
      const values = Array.from({ length: 5 }, (_, i) => `t${t}-${i}`);
      const txn = await producer.beginTransaction();
      await txn.send({ messages: values.map((v) => ({ topic, partition: 0, value: Buffer.from(v) })) });
      if (t % 2 === 0) {
        await txn.abort();
      } else {
        await txn.commit();
        committed.push(...values);
      }
    }
  } finally {
    await producer.close();
  }
  return committed;
}

/** The values `consumer` reads from `topic` (from the earliest offset) until `enough` of them came (or 10 s passed), and for `settleMs` more. */
async function readValues(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, topic: string, enough: number, settleMs: number): Promise<string[]> {
  const got: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', isolationLevel: 1 });
    stream.on('data', (m) => got.push(m.value.toString()));
    const deadline = Date.now() + 10_000;
    while (got.length < enough && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, settleMs));
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return got;
}

describe('read_committed (real broker)', () => {
  it('a consumer from loadKafkaClient reads only the committed transactions of a producer that aborted several', async () => {
    const topic = await freshTopic('read-committed', 1);
    const committed = await abortAndCommitInTurn(topic);
    const { Consumer: SluiceConsumer } = await loadKafkaClient();
    const consumer = new SluiceConsumer({ clientId: 'rc-test', bootstrapBrokers: BROKERS, groupId: `rc-${randomUUID()}`, isolationLevel: 1, autocommit: false, maxWaitTime: 100 });
    // 500 ms more: anything beyond the committed records would come now.
    expect(await readValues(consumer, topic, committed.length, 500)).toEqual(committed);
    // The test helper reads through the same fix.
    expect((await readCommitted(topic, committed.length, 500)).map((m) => m.value.toString())).toEqual(committed);
  });

  it('the client alone lets aborted transactions through (the defect the fix is for; if this fails, the client was fixed)', async () => {
    const topic = await freshTopic('read-committed-raw', 1);
    const committed = await abortAndCommitInTurn(topic);
    const consumer = new Consumer({ clientId: 'rc-test', bootstrapBrokers: BROKERS, groupId: `rc-${randomUUID()}`, isolationLevel: 1, autocommit: false, maxWaitTime: 100 });
    expect((await readValues(consumer, topic, 25, 0)).length).toBeGreaterThan(committed.length);
  });
});

describe('dropAbortedBatches', () => {
  const data = (firstOffset: bigint, producerId: bigint, n = 2) => ({ firstOffset, lastOffsetDelta: n - 1, attributes: 0x10, producerId, records: Array.from({ length: n }, () => ({ key: null })) });
  const marker = (offset: bigint, producerId: bigint, type: number) => {
    const key = Buffer.alloc(4);
    key.writeInt16BE(type, 2);
    return { firstOffset: offset, lastOffsetDelta: 0, attributes: 0x30, producerId, records: [{ key }] };
  };

  it('empties each aborted transaction of a producer up to its own abort marker, keeps its committed ones and the other producers’', () => {
    const partition = {
      abortedTransactions: [
        { producerId: 7n, firstOffset: 7n },
        { producerId: 7n, firstOffset: 0n },
      ],
      // 0-1 aborted, 2 its marker, 3-4 committed (marker 6), 5 another producer's, 7-8 aborted (marker 9), 10-11 not listed
      records: [data(0n, 7n), marker(2n, 7n, 0), data(3n, 7n), data(5n, 9n, 1), marker(6n, 7n, 1), data(7n, 7n), marker(9n, 7n, 0), data(10n, 7n)],
    };
    dropAbortedBatches(partition);
    expect(partition.records.map((b) => b.records.length)).toEqual([0, 1, 2, 1, 1, 0, 1, 2]);
  });

  it('leaves non-transactional batches alone, and responses that list no aborted transaction', () => {
    const plain = { ...data(0n, 7n), attributes: 0 };
    const partition = { abortedTransactions: [{ producerId: 7n, firstOffset: 0n }], records: [plain] };
    dropAbortedBatches(partition);
    expect(partition.records[0]!.records).toHaveLength(2);
    const none = { abortedTransactions: [], records: [data(0n, 7n)] };
    dropAbortedBatches(none);
    expect(none.records[0]!.records).toHaveLength(2);
  });
});
