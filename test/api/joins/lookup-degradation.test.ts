import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Job, collectSink, dependency, fromCollection, generator, lookupJoin, type Lookup, type LookupJoinOptions } from '../../../src/index.js';
import { redisKeyLookup } from '../../../src/connectors/redis/index.js';
import type { AsyncWaitOperator } from '../../../src/runtime/operators/async/async-wait.js';
import { FaultProxy, OperatorHarness } from '../../../src/testing/index.js';

/** A table that can be taken down. */
function table(entries: Record<string, string>) {
  const state = { down: false, calls: 0 };
  const lookup: Lookup<string, string> = {
    name: 'flaky',
    get: async (keys) => {
      state.calls++;
      if (state.down) throw new Error('connection refused');
      return keys.map((k) => entries[k]);
    },
  };
  return { state, lookup };
}

/** The lookup join's operator under the harness (on its manual clock), built from a real job step. */
function harness(lookup: Lookup<string, string>, options: Partial<LookupJoinOptions<string, string, string, string>>, onError: 'fail' | 'dead-letter' = 'fail') {
  const job = new Job({ name: 'degrade' });
  lookupJoin(job.source(fromCollection<string>([]), { uid: 's' }), lookup, {
    uid: 'j',
    key: (k) => k,
    join: (k, v, info) => `${k}=${v}:${info.degraded}`,
    onMiss: 'null',
    cache: { maxEntries: 100, ttl: 1_000 },
    ...options,
  }).print();
  const op = job.graph.nodes.find((n) => n.uid === 'j')!.createOperator!() as AsyncWaitOperator<string, string>;
  return { h: OperatorHarness.of<string, string>(op, { onError }), op };
}

describe('lookupJoin: graceful degradation when the table is unavailable', () => {
  it('serves an expired cache entry within the stale window, marks records it has none for, and counts both', async () => {
    const { state, lookup } = table({ a: '1' });
    const { h, op } = harness(lookup, { whenUnavailable: { stale: '10s', mark: true }, dependency: dependency('stale-table', { breaker: { consecutiveFailures: 1, halfOpenAfter: '1h' } }) });
    h.processElement('a');
    await h.settle();
    expect(h.take()).toEqual(['a=1:false']);
    h.advanceProcessingTime(1_500); // 'a' has expired
    state.down = true;
    h.processElement('a');
    await h.settle();
    expect(h.take()).toEqual(['a=1:stale']); // the failure opened the breaker; the stale entry stood in
    h.processElement('b'); // never cached: marked, refused by the open breaker without a call
    const calls = state.calls;
    await h.settle();
    expect(h.take()).toEqual(['b=null:unavailable']);
    expect(state.calls).toBe(calls);
    h.advanceProcessingTime(10_000); // past ttl + stale
    h.processElement('a');
    await h.settle();
    expect(h.take()).toEqual(['a=null:unavailable']);
    expect(op.degraded).toBe(3);
    expect(op.staleServed).toBe(1);
    expect(op.failures).toBe(0);
  });

  it('without a stale entry and without mark, the failure goes through the error policy', async () => {
    const { state, lookup } = table({ a: '1' });
    const { h, op } = harness(lookup, { whenUnavailable: { stale: '10s' } }, 'dead-letter');
    state.down = true;
    h.processElement('a');
    await h.settle();
    expect(h.take()).toEqual([]);
    expect(h.deadLetters.map((d) => d.error.message)).toEqual([expect.stringContaining('connection refused')]);
    expect(op.degraded).toBe(0);
    expect(op.failures).toBe(1);
  });

  it('a miss is never degraded: LOOKUP_MISS stands under onMiss dead-letter', async () => {
    const { lookup } = table({});
    const { h, op } = harness(lookup, { onMiss: 'dead-letter', whenUnavailable: { mark: true } }, 'dead-letter');
    h.processElement('x');
    await h.settle();
    expect(h.take()).toEqual([]);
    expect(h.deadLetters.map((d) => d.error.code)).toEqual(['LOOKUP_MISS']);
    expect(op.degraded).toBe(0);
  });

  it('times its calls to the table in the lookup latency histogram, per key asked', async () => {
    const { lookup } = table({ a: '1', b: '2' });
    const { h, op } = harness(lookup, {});
    h.processBatch([
      ['a', 0],
      ['b', 0],
      ['a', 0],
    ]);
    await h.settle();
    expect(op.lookupLatency!.count).toBe(2); // one call, two distinct keys
    expect(op.lookupLatency!.sum).toBeGreaterThanOrEqual(0);
  });

  it('refuses a stale window without a cache', () => {
    const job = new Job({ name: 'bad' });
    const { lookup } = table({});
    expect(() =>
      lookupJoin(job.source(fromCollection<string>([]), { uid: 's' }), lookup, { uid: 'j', key: (k) => k, join: (k) => k, onMiss: 'null', cache: { maxEntries: 0, ttl: 1 }, whenUnavailable: { stale: '1s' } }),
    ).toThrow(/needs a cache/);
  });
});

describe('lookupJoin: stale entries from a real Redis behind a FaultProxy', () => {
  it('keeps joining from stale entries while Redis is unreachable, and fresh ones once it is back', async () => {
    const run = `sluice_stale_${randomUUID().slice(0, 8)}`;
    const direct = new Redis({ host: '127.0.0.1', port: 6379 });
    await direct.mset(`${run}:0`, 'zero', `${run}:1`, 'one');
    const proxy = await FaultProxy.start({ target: { port: 6379 } });
    const users = redisKeyLookup({ url: `redis://127.0.0.1:${proxy.port}`, redisKey: (k) => `${run}:${k}`, name: 'users' });
    await users.get(['0'], new AbortController().signal); // connected before the job: its first calls must not time out
    const out = collectSink<string>();
    const job = new Job({ name: 'stale-redis', batchSize: 4 });
    // Keys 0 and 1 again and again, at 200 a second, with a cache fresh for 50 ms only.
    lookupJoin(job.source(generator({ make: (i) => String(i % 2), count: 400, ratePerSecond: 200 }), { uid: 'ids' }), users, {
      uid: 'users',
      key: (k) => k,
      join: (k, v, info) => `${v}:${info.degraded}`,
      onMiss: 'null',
      cache: { maxEntries: 10, ttl: '50ms' },
      timeout: '250ms',
      dependency: dependency(`${run}-redis`, { breaker: { consecutiveFailures: 2, halfOpenAfter: '100ms' } }),
      whenUnavailable: { stale: '1h', mark: true },
    }).sinkTo(out, { uid: 'out' });
    const running = job.start();
    try {
      // Both keys cached before the outage (a loaded machine may be slow to start the job).
      await out.waitFor(20);
      proxy.schedule([
        { after: 0, fault: 'refuse' },
        { after: 0, fault: 'reset' },
        { after: '800ms', fault: 'heal' },
      ]);
      await running.done;
    } finally {
      await users.close?.();
      await proxy.close();
      await direct.del(`${run}:0`, `${run}:1`);
      await direct.quit();
    }
    const counts = new Map<string, number>();
    for (const v of out.values) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect(out.values.length).toBe(400);
    // Every record got its value: fresh, or stale while Redis was away; none marked without one.
    expect([...counts.keys()].sort()).toEqual(['one:false', 'one:stale', 'zero:false', 'zero:stale']);
    expect(out.values.at(-1)).toMatch(/:false$/);
  }, 60_000);
});
