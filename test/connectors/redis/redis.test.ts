import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonFormat } from '../../../src/formats/index.js';
import { describeSink, describeSource } from '../../../src/testing/index.js';
import { redisLookup, redisSink, redisStreamSource } from '../../../src/connectors/redis/index.js';
import { describeFormats, type Order } from '../format-cases.js';

const run = `sluice-test-${randomUUID().slice(0, 8)}`;
const redis = new Redis('redis://127.0.0.1:6379');
afterAll(async () => {
  const keys = await redis.keys(`${run}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});
let seq = 0;
const unique = (what: string) => `${run}:${what}:${seq++}`;

interface Rec {
  i: number;
  name: string;
}
const make = (i: number): Rec => ({ i, name: `n${i}` });

describeSource<Rec>('redisStreamSource', {
  guarantee: 'exactly-once',
  make,
  policies: ['fail', 'dead-letter', 'skip'],
  prepare: async (values, bad) => {
    const stream = unique('stream');
    const pipe = redis.pipeline();
    values.forEach((v, i) => {
      const b = bad.get(i);
      if (b) pipe.xadd(stream, '*', 'data', Buffer.from(b));
      pipe.xadd(stream, '*', 'data', JSON.stringify(v));
    });
    await pipe.exec();
    const group = unique('group');
    return { source: (opts) => redisStreamSource<Rec>({ stream, group, format: jsonFormat<Rec>(), onBadRecord: opts?.onBadRecord }) };
  },
});

describeSink<Rec>('redisSink (hash)', {
  kind: 'idempotent',
  make,
  prepare: async () => {
    const prefix = unique('hash');
    return {
      sink: redisSink<Rec>({ target: { type: 'hash', key: (r) => `${prefix}:${r.i}` } }),
      read: async () => {
        const keys = await redis.keys(`${prefix}:*`);
        return Promise.all(keys.map(async (k) => redis.hgetall(k)));
      },
    };
  },
  view: (vs) => vs.map((r) => ({ i: String(r.i), name: r.name })),
});

describeSink<Rec>('redisSink (sorted set)', {
  kind: 'idempotent',
  make,
  prepare: async () => {
    const key = unique('zset');
    return {
      sink: redisSink<Rec>({ target: { type: 'sorted-set', key: () => key, member: (r) => r.name, score: (r) => r.i } }),
      read: async () => {
        // RESP3 answers [member, score] pairs, RESP2 a flat list.
        const reply = (await redis.call('ZRANGE', key, '0', '-1', 'WITHSCORES')) as unknown[];
        const flat = reply.flat() as string[];
        const out: Array<[string, number]> = [];
        for (let j = 0; j < flat.length; j += 2) out.push([String(flat[j]), Number(flat[j + 1])]);
        return out;
      },
    };
  },
  view: (vs) => vs.map((r) => [r.name, r.i]),
});

describe('redisStreamSource acknowledgements', () => {
  it('XACKs at barriers (or on checkpoint completion), and a fresh reader first takes its unacknowledged entries', async () => {
    const stream = unique('acks');
    const group = unique('g');
    for (let i = 0; i < 10; i++) await redis.xadd(stream, '*', 'data', JSON.stringify(make(i)));
    const { testSourceContext } = await import('../../../src/testing/index.js');
    const source = redisStreamSource<Rec>({ stream, group, format: jsonFormat<Rec>(), ackOn: 'checkpoint-complete' });
    const r1 = source.createReader(testSourceContext({ maxBatchSize: 4, uid: 'c1' }));
    await r1.open!();
    expect((await r1.poll()).values.map((r) => r.i)).toEqual([0, 1, 2, 3]);
    r1.snapshotPosition!(1);
    const pending = async () => ((await redis.xpending(stream, group)) as [number])[0];
    expect(await pending()).toBe(4);
    await r1.notifyCheckpointComplete!(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(await pending()).toBe(0);
    expect((await r1.poll()).values.map((r) => r.i)).toEqual([4, 5, 6, 7]);
    await r1.close(); // crash: 4..7 delivered, never acknowledged
    const r2 = source.createReader(testSourceContext({ maxBatchSize: 100, uid: 'c1' }));
    await r2.open!();
    const again = [...(await r2.poll()).values, ...(await r2.poll()).values, ...(await r2.poll()).values];
    expect(again.map((r) => r.i)).toEqual([4, 5, 6, 7, 8, 9]);
    await r2.close();
  });
});

describe('redisLookup', () => {
  it('serves a synchronous cache, loads misses in batched round trips, and expires entries', async () => {
    const prefix = unique('users');
    for (let i = 0; i < 20; i++) await redis.hset(`${prefix}:${i}`, { country: i % 2 ? 'NL' : 'FR' });
    let now = 0;
    const clock = { now: () => now } as never;
    const users = await redisLookup<{ country: string }>({ type: 'hash', redisKey: (k) => `${prefix}:${k}`, batchSize: 8, ttlMs: 1000, clock, parse: (raw) => raw as { country: string } });
    await users.prefetch(['0', '1', '2']);
    expect(users.stats.roundTrips).toBe(1);
    expect(users.get('1')).toEqual({ country: 'NL' });
    for (let i = 3; i < 20; i++) expect(users.get(String(i))).toBeUndefined(); // misses: loaded in the background
    expect(users.get('missing')).toBeUndefined();
    await users.settled();
    expect(users.stats.roundTrips).toBe(1 + 3); // 18 keys in batches of 8
    expect(users.get('19')).toEqual({ country: 'NL' });
    expect(users.has('missing')).toBe(true); // a miss is cached too
    await redis.hset(`${prefix}:1`, { country: 'BE' });
    expect(users.get('1')).toEqual({ country: 'NL' });
    now = 1500; // expired: the stale value is served while it reloads
    expect(users.get('1')).toEqual({ country: 'NL' });
    await users.settled();
    expect(users.get('1')).toEqual({ country: 'BE' });
    await users.close();
  });
});

/** Every format through redisStreamSource (issue 18), the records added raw by XADD. */
describeFormats('redisStreamSource with every format (real Redis)', async () => {
  const stream = unique('fmt');
  return {
    publish: async (messages) => {
      const pipe = redis.pipeline();
      for (const m of messages) pipe.xadd(stream, '*', 'data', Buffer.from(m));
      await pipe.exec();
    },
    source: (format) => redisStreamSource<Order>({ stream, group: unique('group'), format }),
    position: new RegExp(`^${stream}/\\d+-\\d+$`),
  };
});
