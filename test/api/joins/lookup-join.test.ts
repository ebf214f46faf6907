import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, collectSink, fixedDelay, fromCollection, lookupJoin, redisKeyLookup, type DeadLetter, type Lookup } from '../../../src/index.js';
import { OperatorHarness } from '../../../src/testing/index.js';

// The real Redis of the development machine (scripts/services.sh starts it).
const run = `sluice-lookup-${randomUUID().slice(0, 8)}`;
const redis = new Redis('redis://127.0.0.1:6379');
const users = Array.from({ length: 50 }, (_, i) => ({ id: `u${i}`, country: i % 2 ? 'fr' : 'de' }));
beforeAll(async () => {
  await redis.mset(...users.flatMap((u) => [`${run}:user:${u.id}`, JSON.stringify(u)]));
});
afterAll(async () => {
  const keys = await redis.keys(`${run}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

interface Click {
  n: number;
  user: string;
}

/** The Redis lookup, counting its MGETs and the keys asked. */
function countedLookup() {
  const inner = redisKeyLookup<{ id: string; country: string }>({ name: 'users', redisKey: (id) => `${run}:user:${id}`, parse: JSON.parse });
  const counts = { calls: 0, keys: 0 };
  const lookup: Lookup<string, { id: string; country: string }> = {
    name: inner.name,
    get: (keys, signal) => {
      counts.calls++;
      counts.keys += keys.length;
      return inner.get(keys, signal);
    },
    close: () => inner.close!(),
  };
  return { lookup, counts };
}

describe('lookupJoin with Redis', () => {
  it("joins each record with its key's value, asking the keys of a batch in one MGET, and answers repeated keys from the cache", async () => {
    const { lookup, counts } = countedLookup();
    const clicks: Click[] = Array.from({ length: 1_000 }, (_, n) => ({ n, user: `u${n % 50}` }));
    const job = new Job({ name: 'lookup', batchSize: 200 });
    const out = collectSink<string>();
    lookupJoin(job.source(fromCollection(clicks), { uid: 'clicks' }), lookup, {
      uid: 'users',
      key: (c) => c.user,
      join: (c, u) => `${c.n}:${u?.country}`,
      onMiss: 'null',
      capacity: 200,
      cache: { maxEntries: 100, ttl: '1m' },
    }).sinkTo(out);
    await job.run();
    await lookup.close!();
    expect(out.values).toEqual(clicks.map((c) => `${c.n}:${Number(c.user.slice(1)) % 2 ? 'fr' : 'de'}`));
    expect(counts.keys).toBe(50); // each key asked once: the rest are cache hits
    expect(counts.calls).toBeLessThanOrEqual(5); // the first batch's 50 keys in one MGET (a few more if batches split)
  });

  it("onMiss 'null' joins with null; 'dead-letter' sends the record to the dead letters with LOOKUP_MISS", async () => {
    const clicks: Click[] = [
      { n: 1, user: 'u1' },
      { n: 2, user: 'nobody' },
    ];
    for (const onMiss of ['null', 'dead-letter'] as const) {
      const { lookup } = countedLookup();
      const job = new Job({ name: `miss-${onMiss}` });
      const out = collectSink<string>();
      const dead = collectSink<DeadLetter>();
      lookupJoin(job.source(fromCollection(clicks), { uid: 'clicks' }), lookup, { uid: 'users', key: (c) => c.user, join: (c, u) => `${c.n}:${u?.country ?? 'none'}`, onMiss }).sinkTo(out);
      job.deadLetters().sinkTo(dead);
      await job.run();
      await lookup.close!();
      if (onMiss === 'null') {
        expect(out.values).toEqual(['1:fr', '2:none']);
        expect(dead.values).toEqual([]);
      } else {
        expect(out.values).toEqual(['1:fr']);
        expect(dead.values.map((d) => [d.record, d.error.code])).toEqual([[clicks[1], 'LOOKUP_MISS']]);
        expect(dead.values[0]!.error.message).toMatch(/lookup 'users' has no value for key .nobody./);
      }
    }
  });
});

describe('lookupJoin: waiting for a missing key (harness, manual clock)', () => {
  it("onMiss 'wait' asks again on the retry pauses until the value is there", async () => {
    const table = new Map<string, string>();
    const lookup: Lookup<string, string> = { name: 'late', get: async (keys) => keys.map((k) => table.get(k)) };
    // The harness takes an operator: build the step in a job and take its operator.
    const job = new Job({ name: 'wait' });
    lookupJoin(job.source(fromCollection<string>([]), { uid: 's' }), lookup, { uid: 'late', key: (k) => k, join: (k, v) => `${k}=${v}`, onMiss: 'wait', retry: fixedDelay(100, { maxAttempts: 5 }) }).print();
    const step = job.graph.nodes.find((n) => n.uid === 'late')!;
    const h = OperatorHarness.of<string, string>(step.createOperator!());
    h.processElement('a', 1);
    await h.settle();
    await h.advanceProcessingTime(100).settle();
    expect(h.values).toEqual([]);
    table.set('a', '1');
    await h.advanceProcessingTime(100).settle();
    expect(h.values).toEqual(['a=1']);
  });
});
