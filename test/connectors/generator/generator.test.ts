import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/time/clock.js';
import { describeSource, readAll, settle, testSourceContext } from '../../../src/testing/index.js';
import { generator } from '../../../src/connectors/generator/index.js';

describe('generator without a rate', () => {
  it('makes `count` records in full batches, then ends', async () => {
    const source = generator({ make: (i) => i * i, count: 5 });
    expect(source.bounded).toBe(true);
    const reader = source.createReader(testSourceContext({ maxBatchSize: 2 }));
    expect(await reader.poll()).toEqual({ values: [0, 1] });
    expect(await reader.poll()).toEqual({ values: [4, 9] });
    expect(await reader.poll()).toEqual({ values: [16], done: true });
    expect(await reader.poll()).toEqual({ values: [], done: true });
    expect(reader.position()).toEqual({ index: 5 });
  });

  it('is unbounded without a count and fills every batch', async () => {
    const source = generator({ make: (i) => `r${i}` });
    expect(source.bounded).toBe(false);
    const reader = source.createReader(testSourceContext({ maxBatchSize: 3 }));
    expect(await reader.poll()).toEqual({ values: ['r0', 'r1', 'r2'] });
    expect(await reader.poll()).toEqual({ values: ['r3', 'r4', 'r5'] });
  });

  it('stamps records with timestamp(value, index)', async () => {
    const source = generator({ make: (i) => ({ i }), count: 3, timestamp: (_v, i) => 1000 + i });
    expect((await readAll(source)).timestamps).toEqual([1000, 1001, 1002]);
  });

  it('reports a throwing make() with the index', async () => {
    const source = generator({ make: (i) => { if (i === 2) throw new Error('boom'); return i; }, count: 5 });
    await expect(readAll(source, testSourceContext({ maxBatchSize: 10 }))).rejects.toMatchObject({
      code: 'USER_FUNCTION_FAILED',
      message: expect.stringContaining('make(2)'),
    });
  });

  it('reports a timestamp function that throws or returns no finite number, with the index and the record', async () => {
    const throwing = generator({ make: (i) => ({ i }), count: 5, timestamp: (_v, i) => { if (i === 3) throw new Error('no clock'); return i; } });
    await expect(readAll(throwing)).rejects.toMatchObject({
      code: 'USER_FUNCTION_FAILED',
      message: expect.stringMatching(/^\[USER_FUNCTION_FAILED\] generator: timestamp\(…, 3\) threw for record \{"i":3\}/),
      detail: 'no clock',
    });
    const nan = generator({ make: (i) => ({ i }), count: 5, timestamp: (_v, i) => (i === 1 ? Number.NaN : i) });
    await expect(readAll(nan)).rejects.toMatchObject({
      code: 'USER_FUNCTION_FAILED',
      message: expect.stringMatching(/^\[USER_FUNCTION_FAILED\] generator: timestamp\(…, 1\) returned NaN for record \{"i":1\}/),
    });
  });

  it('rejects bad options at once', () => {
    expect(() => generator({ make: (i) => i, count: -1 })).toThrow(/count/);
    expect(() => generator({ make: (i) => i, count: 1.5 })).toThrow(/count/);
    expect(() => generator({ make: (i) => i, ratePerSecond: 0 })).toThrow(/ratePerSecond/);
    expect(() => generator({ make: (i) => i, ratePerSecond: Number.POSITIVE_INFINITY })).toThrow(/ratePerSecond/);
    expect(() => generator({} as never)).toThrow(/make/);
  });

  it('describes itself', () => {
    expect(generator({ make: (i) => i, count: 3, ratePerSecond: 10 }).describe()).toBe('generator of 3 records at 10/s');
    expect(generator({ make: (i) => i }).describe()).toBe('generator of unbounded records, unrated');
  });
});

describe('generator with a rate (ManualClock)', () => {
  it('hands out the first record at once and the next when it is due', async () => {
    const clock = new ManualClock(0);
    const reader = generator({ make: (i) => i, ratePerSecond: 10 }).createReader(
      testSourceContext({ clock, maxBatchSize: 100, maxPollWaitMs: 1000 }),
    );
    expect(await reader.poll()).toEqual({ values: [0] });
    const second = reader.poll();
    await new Promise((r) => setImmediate(r));
    expect(clock.scheduledCount).toBe(1); // sleeping until t=100
    clock.advance(99);
    clock.advance(1);
    expect(await second).toEqual({ values: [1] });
    clock.advance(350); // records 2, 3 and 4 came due meanwhile: one batch
    expect(await reader.poll()).toEqual({ values: [2, 3, 4] });
  });

  it('matches the rate over the long run, in batches no larger than maxBatchSize', async () => {
    const clock = new ManualClock(1_000_000);
    const rate = 10_000;
    const ctx = testSourceContext({ clock, maxBatchSize: 64, maxPollWaitMs: 20 });
    const reader = generator({ make: (i) => i, ratePerSecond: rate }).createReader(ctx);
    let total = 0;
    let largest = 0;
    const end = clock.now() + 10_000;
    while (clock.now() < end) {
      const { values } = await settle(clock, reader.poll(), { stepMs: 3 });
      total += values.length;
      largest = Math.max(largest, values.length);
      if (values.length > 0) expect(values[0]).toBe(total - values.length); // no gaps while keeping up
    }
    const elapsed = clock.now() - 1_000_000;
    expect(largest).toBeLessThanOrEqual(64);
    // Exactly the schedule: floor(elapsed * rate / 1000) + 1 records, give or take the last poll.
    expect(Math.abs(total - (Math.floor((elapsed * rate) / 1000) + 1))).toBeLessThanOrEqual(64);
    expect(total / (elapsed / 1000)).toBeCloseTo(rate, -2);
  });

  it('bounds catch-up after a stall to one batch, then keeps the rate', async () => {
    const clock = new ManualClock(0);
    const ctx = testSourceContext({ clock, maxBatchSize: 10, maxPollWaitMs: 50 });
    const reader = generator({ make: (i) => i, ratePerSecond: 1000 }).createReader(ctx);
    expect((await reader.poll()).values).toEqual([0]);
    clock.advance(5000); // 5000 records came due while nobody polled
    const burst = await reader.poll();
    expect(burst.values).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // one batch, not 5000
    // Afterwards: 1000 per second again, not a flood of the forgiven backlog.
    let total = 0;
    const end = clock.now() + 1000;
    while (clock.now() < end) total += (await settle(clock, reader.poll(), { stepMs: 5 })).values.length;
    expect(total).toBeGreaterThanOrEqual(990);
    expect(total).toBeLessThanOrEqual(1010);
  });

  it('sleeps at most maxPollWaitMs per poll and returns empty when nothing came due', async () => {
    const clock = new ManualClock(0);
    const ctx = testSourceContext({ clock, maxBatchSize: 10, maxPollWaitMs: 100 });
    const reader = generator({ make: (i) => i, ratePerSecond: 0.5 }).createReader(ctx);
    expect((await reader.poll()).values).toEqual([0]);
    const p = reader.poll();
    await new Promise((r) => setImmediate(r));
    clock.advance(100);
    expect(await p).toEqual({ values: [] });
    expect(clock.scheduledCount).toBe(0);
    clock.advance(1900);
    expect(await reader.poll()).toEqual({ values: [1] });
  });

  it('stops waiting when the job is cancelled', async () => {
    const clock = new ManualClock(0);
    const ctx = testSourceContext({ clock, maxPollWaitMs: 1000 });
    const reader = generator({ make: (i) => i, ratePerSecond: 1 }).createReader(ctx);
    await reader.poll();
    const p = reader.poll();
    ctx.abort();
    expect(await p).toEqual({ values: [] });
    expect(clock.scheduledCount).toBe(0);
  });

  it('ends a rated, bounded generator after `count`', async () => {
    const clock = new ManualClock(0);
    const source = generator({ make: (i) => i, count: 3, ratePerSecond: 100 });
    const ctx = testSourceContext({ clock, maxPollWaitMs: 5 });
    const reader = source.createReader(ctx);
    const seen: number[] = [];
    for (;;) {
      const b = await settle(clock, reader.poll());
      seen.push(...b.values);
      if (b.done) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(clock.now()).toBe(20); // record 2 was due at 20 ms
  });
});

describeSource<{ id: number; name: string }>('generator', {
  guarantee: 'exactly-once',
  bounded: true,
  badRecords: false, // records made in memory: nothing to decode
  make: (id) => ({ id, name: `n${id}` }),
  prepare: async (values) => ({ source: () => generator({ make: (id) => ({ id, name: `n${id}` }), count: values.length }) }),
});
