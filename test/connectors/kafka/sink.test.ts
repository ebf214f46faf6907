import { describe, expect, it } from 'vitest';
import { Job, generator } from '../../../src/index.js';
import { kafkaSink, type KafkaTransactionHandle } from '../../../src/connectors/kafka/index.js';
import { testSinkContext } from '../../../src/testing/index.js';
import { freshTopic, readCommitted } from './helpers.js';

const BROKERS = '127.0.0.1:9092';

interface Order {
  id: number;
  user: string;
}
const make = (i: number): Order => ({ id: i, user: `u${i % 37}` });

describe('kafkaSink (real broker)', () => {
  it('exactly-once: a job that fails once and restarts from its checkpoint writes every record exactly once (read_committed)', async () => {
    const topic = await freshTopic('sink-eo', 4);
    const N = 20_000;
    const failAt = { index: Math.floor(N * 0.6), failed: false };
    const job = new Job({
      name: 'kafka-eo',
      batchSize: 256,
      checkpoints: { interval: '50ms' },
      delivery: 'exactly-once',
      restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
    });
    job
      .source(generator({ make, count: N }), { uid: 'orders' })
      .map((o) => {
        if (!failAt.failed && o.id === failAt.index) {
          failAt.failed = true;
          throw new Error('injected failure');
        }
        return o;
      })
      .sinkTo(kafkaSink<Order>({ brokers: BROKERS, topic, key: (o) => o.user }), { uid: 'out' });
    let restarts = 0;
    const running = job.start({ onRestart: () => restarts++ });
    await running.done;
    expect(failAt.failed).toBe(true);
    expect(restarts).toBe(1);
    expect(running.checkpoints.filter((c) => c.status === 'completed').length).toBeGreaterThan(1);

    const got = await readCommitted(topic, N);
    const ids = got.map((m) => (JSON.parse(m.value.toString()) as Order).id).sort((a, b) => a - b);
    expect(ids.length).toBe(N);
    expect(ids).toEqual(Array.from({ length: N }, (_, i) => i));
    // Keyed partitioning: all records of a user are in one partition.
    const partitionOf = new Map<string, Set<number>>();
    for (const m of got) {
      const user = m.key.toString();
      if (!partitionOf.has(user)) partitionOf.set(user, new Set());
      partitionOf.get(user)!.add(m.partition);
    }
    expect(partitionOf.size).toBe(37);
    for (const parts of partitionOf.values()) expect(parts.size).toBe(1);
  }, 90_000);

  it('recover commits a pre-committed transaction of a crashed writer and aborts what it wrote after the checkpoint', async () => {
    const topic = await freshTopic('sink-recover', 2);
    const prefix = `recover-${topic}`;
    const sink = kafkaSink<Order>({ brokers: BROKERS, topic, transactionalIdPrefix: prefix });
    const crashed = sink.createWriter(testSinkContext({ transactional: true, uid: 'out' }));
    await crashed.open?.();
    await crashed.recover?.([]);
    await crashed.write(Array.from({ length: 100 }, (_, i) => make(i)), []);
    const handle = (await crashed.preCommit?.(1)) as KafkaTransactionHandle;
    expect(handle.transactionalId).toBe(`${prefix}-0`);
    // After the barrier: more records in the next transaction, never pre-committed.
    await crashed.write(Array.from({ length: 50 }, (_, i) => make(1000 + i)), []);
    await crashed.preCommit?.(2); // pre-committed by the writer, but checkpoint 2 never completes
    await crashed.write(Array.from({ length: 10 }, (_, i) => make(2000 + i)), []);
    // The process dies here: no commit, no abort.
    await crashed.close();

    const restarted = sink.createWriter(testSinkContext({ transactional: true, uid: 'out' }));
    await restarted.open?.();
    await restarted.recover?.([handle]); // the restored checkpoint 1 holds only the first transaction
    // Committing it again is harmless (a commit may be retried after a failure).
    await restarted.commit?.([handle]);
    await restarted.close();

    const got = await readCommitted(topic, 100, 1500);
    expect(got.map((m) => (JSON.parse(m.value.toString()) as Order).id).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  }, 60_000);

  it('at-least-once without transactions: records are flushed at the end of a bounded job', async () => {
    const topic = await freshTopic('sink-alo', 1);
    const job = new Job({ name: 'kafka-alo', checkpoints: { interval: '100ms' }, delivery: 'at-least-once' });
    job.source(generator({ make, count: 5000 }), { uid: 'orders' }).sinkTo(kafkaSink<Order>({ brokers: BROKERS, topic, format: 'json' }), { uid: 'out' });
    await job.run();
    const got = await readCommitted(topic, 5000, 800);
    expect(new Set(got.map((m) => (JSON.parse(m.value.toString()) as Order).id)).size).toBe(5000);
  }, 60_000);
});
