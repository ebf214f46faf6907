/**
 * Compacted topics as tables, against the real broker (test/setup/kafka.ts): kafkaSink in
 * upsert mode writes tombstones for deletes; kafkaTable reads the topic back as a
 * changelog whose latest change per key equals a batch "latest value per key" (property
 * test), and feeds a temporal join; kafkaTableLookup answers a lookup join from it and
 * follows later updates. Bad input: records without a key, undecodable values.
 */
import { randomUUID } from 'node:crypto';
import { Producer } from '@platformatic/kafka';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Job, WatermarkStrategy, collectSink, fromCollection, lookupJoin, temporalJoin, type DeadLetter } from '../../../src/index.js';
import { isTableDelete, kafkaSink, kafkaTable, kafkaTableLookup, type KafkaTableChange } from '../../../src/connectors/kafka/index.js';
import { readAll, testSinkContext, testSourceContext } from '../../../src/testing/index.js';
import { checkProperty, propertyRuns } from '../../property.js';
import { BROKERS, freshTopic } from './helpers.js';

interface Op {
  id: string;
  v: number;
  deleted: boolean;
}

/** Writes raw records, a null value being a tombstone. */
async function produceRaw(topic: string, records: Array<{ key?: string; value: string | null; timestamp?: number }>): Promise<void> {
  const producer = new Producer({ clientId: 'sluice-test', bootstrapBrokers: BROKERS, idempotent: true });
  try {
    await producer.send({
      messages: records.map((r) => ({
        topic,
        value: (r.value === null ? null : Buffer.from(r.value)) as Buffer,
        ...(r.key === undefined ? {} : { key: Buffer.from(r.key) }),
        ...(r.timestamp === undefined ? {} : { timestamp: BigInt(r.timestamp) }),
      })),
    });
  } finally {
    await producer.close();
  }
}

/** The batch answer: the latest value per key, a delete removing it. */
function latestPerKey(ops: readonly Op[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of ops) {
    if (o.deleted) m.delete(o.id);
    else m.set(o.id, o.v);
  }
  return m;
}

/** The streaming answer: the changelog folded per key, in the order the source gave it. */
function fold(changes: readonly KafkaTableChange<Op>[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of changes) {
    if (c.op === 'delete') m.delete(c.key);
    else m.set(c.key, c.value.v);
  }
  return m;
}

const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => a.localeCompare(b));

describe('compacted topics as tables', () => {
  it('upsert sink → compacted topic → kafkaTable and kafkaTableLookup equal a batch "latest per key" (property)', async () => {
    const op = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), v: fc.integer({ min: 0, max: 99 }), deleted: fc.boolean() });
    await checkProperty(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 3 }), async (ops, partitions) => {
        const topic = `t-table-${randomUUID().slice(0, 8)}`;
        const sink = kafkaSink<Op>({ brokers: BROKERS, topic, key: (o) => o.id, isDelete: (o) => o.deleted, createTopic: { partitions, compacted: true } });
        const w = sink.createWriter(testSinkContext({ uid: 'upserts' }));
        await w.open!();
        await w.write(ops, ops.map(() => Number.NaN));
        await w.flush!();
        await w.close();

        const { values } = await readAll(kafkaTable<Op>({ brokers: BROKERS, topic, groupId: `g-${topic}`, bounded: true }), testSourceContext({ uid: 'table', badRecords: 'fail' }), { maxPolls: 5000 });
        expect(values).toHaveLength(ops.length);
        expect(values.filter((c) => c.op === 'delete').length).toBe(ops.filter((o) => o.deleted).length);
        expect(sorted(fold(values))).toEqual(sorted(latestPerKey(ops)));

        const lookup = kafkaTableLookup<Op>({ brokers: BROKERS, topic });
        try {
          const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
          const got = await lookup.get(keys, new AbortController().signal);
          const expected = latestPerKey(ops);
          expect(got.map((o) => o?.v)).toEqual(keys.map((k) => expected.get(k)));
        } finally {
          await lookup.close();
        }
      }),
      propertyRuns(6),
    );
  }, 180_000);

  it('the topic the upsert sink declares is compacted, and its tombstones carry the key with no value', async () => {
    const topic = `t-table-${randomUUID().slice(0, 8)}`;
    const w = kafkaSink<Op>({ brokers: BROKERS, topic, key: (o) => o.id, isDelete: (o) => o.deleted, createTopic: { compacted: true, retention: 'forever' } }).createWriter(testSinkContext());
    await w.open!();
    await w.write([{ id: 'x', v: 1, deleted: false }, { id: 'x', v: 0, deleted: true }], [Number.NaN, Number.NaN]);
    await w.flush!();
    await w.close();
    const { Admin } = await import('@platformatic/kafka');
    const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
    try {
      const configs = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['cleanup.policy', 'retention.ms'] }] });
      const entries = Object.fromEntries(configs[0]!.configs.map((c) => [c.name, c.value]));
      expect(entries).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '-1' });
    } finally {
      await admin.close();
    }
    const { values } = await readAll(kafkaTable<Op>({ brokers: BROKERS, topic, groupId: `g-${topic}`, bounded: true }), testSourceContext(), { maxPolls: 5000 });
    expect(values).toEqual([{ key: 'x', op: 'upsert', value: { id: 'x', v: 1, deleted: false } }, { key: 'x', op: 'delete' }]);
  });

  it('a kafkaTable is the versions side of a temporal join: each order gets the rate valid at its time, none after a tombstone', async () => {
    const topic = await freshTopic('rates', 1);
    await produceRaw(topic, [
      { key: 'EUR', value: '1', timestamp: 1000 },
      { key: 'USD', value: '5', timestamp: 1000 },
      { key: 'EUR', value: '2', timestamp: 2000 },
      { key: 'EUR', value: null, timestamp: 3000 },
      { key: 'EUR', value: '4', timestamp: 4000 },
    ]);
    const orders = [
      { id: 1, cur: 'EUR', at: 500 },
      { id: 2, cur: 'EUR', at: 1500 },
      { id: 3, cur: 'EUR', at: 2500 },
      { id: 4, cur: 'EUR', at: 3500 },
      { id: 5, cur: 'EUR', at: 4500 },
      { id: 6, cur: 'USD', at: 4500 },
    ];
    const job = new Job({ name: 'table-temporal-join' });
    const out = collectSink<string>();
    const rates = job.source(kafkaTable<number>({ brokers: BROKERS, topic, groupId: `g-${topic}`, bounded: true }), { uid: 'rates', watermarks: WatermarkStrategy.forMonotonousTimestamps() });
    const probe = job.source(fromCollection(orders), { uid: 'orders', watermarks: WatermarkStrategy.forMonotonousTimestamps<(typeof orders)[number]>().withTimestampAssigner((o) => o.at) });
    temporalJoin(probe.keyBy((o) => o.cur), rates.keyBy((c) => c.key), {
      uid: 'priced',
      kind: 'left',
      isDelete: isTableDelete,
      join: (o, c) => `${o.id}:${c?.op === 'upsert' ? c.value : '-'}`,
    }).sinkTo(out);
    await job.run();
    expect([...out.values].sort()).toEqual(['1:-', '2:1', '3:2', '4:-', '5:4', '6:5']);
  });

  it('kafkaTableLookup is the table of a lookup join, and follows updates and tombstones written after it loaded', async () => {
    const topic = await freshTopic('users', 2);
    await produceRaw(topic, [
      { key: 'u1', value: JSON.stringify({ country: 'FR' }) },
      { key: 'u2', value: JSON.stringify({ country: 'DE' }) },
      { key: 'u1', value: JSON.stringify({ country: 'IT' }) },
    ]);
    const users = kafkaTableLookup<{ country: string }>({ brokers: BROKERS, topic });
    try {
      const job = new Job({ name: 'table-lookup-join' });
      const out = collectSink<string>();
      lookupJoin(job.source(fromCollection(['u1', 'u2', 'u3']), { uid: 'clicks' }), users, { uid: 'users', key: (u) => u, join: (u, v) => `${u}:${v?.country ?? '-'}`, onMiss: 'null' }).sinkTo(out);
      await job.run();
      expect([...out.values].sort()).toEqual(['u1:IT', 'u2:DE', 'u3:-']);

      await produceRaw(topic, [{ key: 'u2', value: null }, { key: 'u3', value: JSON.stringify({ country: 'ES' }) }]);
      // The lookup follows the topic: the tombstone and the new key arrive within moments.
      const signal = new AbortController().signal;
      await expect.poll(async () => (await users.get(['u1', 'u2', 'u3'], signal)).map((v) => v?.country), { timeout: 15_000, interval: 50 }).toEqual(['IT', undefined, 'ES']);
      expect(users.size).toBe(2);
    } finally {
      await users.close();
    }
  });

  it('bad input: a keyless record is a bad record of kafkaTable; an undecodable value fails the lookup of its key only; isDelete needs a key', async () => {
    const topic = await freshTopic('bad-table', 1);
    await produceRaw(topic, [{ value: '1' }, { key: 'k', value: '{not json' }, { key: 'ok', value: '7' }]);
    const ctx = testSourceContext({ uid: 'table' });
    const { values } = await readAll(kafkaTable<number>({ brokers: BROKERS, topic, groupId: `g-${topic}`, bounded: true }), ctx, { maxPolls: 5000 });
    expect(values).toEqual([{ key: 'ok', op: 'upsert', value: 7 }]);
    expect(ctx.badRecords.map((b) => [b.position, String((b.error as Error).message)])).toEqual([
      [`${topic}/0@0`, expect.stringMatching(/needs a key/)],
      [`${topic}/0@1`, expect.stringMatching(/JSON/)],
    ]);

    const lookup = kafkaTableLookup<number>({ brokers: BROKERS, topic });
    try {
      const signal = new AbortController().signal;
      expect(await lookup.get(['ok', 'none'], signal)).toEqual([7, undefined]);
      await expect(lookup.get(['k'], signal)).rejects.toMatchObject({ code: 'LOOKUP_FAILED', message: expect.stringMatching(/decoding the value of key "k"/) });
    } finally {
      await lookup.close();
    }

    expect(() => kafkaSink<Op>({ brokers: BROKERS, topic, isDelete: (o) => o.deleted })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/needs a key function/) }));

    // A dead-lettered keyless record in a job: counted, not lost.
    const job = new Job({ name: 'table-bad' });
    const dead = collectSink<DeadLetter>();
    const out = collectSink<KafkaTableChange<number>>();
    job.source(kafkaTable<number>({ brokers: BROKERS, topic, groupId: `g2-${topic}`, bounded: true }), { uid: 'table', onError: 'dead-letter' }).sinkTo(out);
    job.deadLetters().sinkTo(dead);
    await job.run();
    expect(out.values).toEqual([{ key: 'ok', op: 'upsert', value: 7 }]);
    expect(dead.values).toHaveLength(2);
  });
});
