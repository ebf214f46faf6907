import { describe, expect, it } from 'vitest';
import { drain, settle, testSourceContext } from '../../src/testing/index.js';
import type { NexmarkEvent } from '../../src/nexmark/events.js';
import { NexmarkGenerator } from '../../src/nexmark/generator.js';
import { nexmarkSource } from '../../src/nexmark/source.js';
import { ManualClock } from '../../src/time/clock.js';

const START = 1_700_000_000_000;

describe('nexmarkSource, paced', () => {
  it('hands out each event once the clock reaches its dateTime, event time starting at the first poll', async () => {
    const clock = new ManualClock(START);
    const reader = nexmarkSource({ events: 50, seed: 3, rate: 1000, ratePerSecond: 1000 }).createReader(testSourceContext({ clock, maxBatchSize: 16 }));
    const gen = new NexmarkGenerator({ seed: 3, rate: 1000, baseTime: START });
    // 1000 per second: event n is due at START + n ms
    expect(await reader.poll()).toEqual({ values: [gen.event(0)], timestamps: [START] });
    clock.advance(5);
    expect((await reader.poll()).values).toEqual([1, 2, 3, 4, 5].map((n) => gen.event(n)));
    clock.advance(30); // 30 due, in batches of at most 16, without waiting
    const due: NexmarkEvent[] = [];
    for (let polls = 0; due.length < 30 && polls < 4; polls++) {
      const { values } = await reader.poll();
      expect(values.length).toBeGreaterThan(0);
      expect(values.length).toBeLessThanOrEqual(16);
      due.push(...values);
    }
    expect(due).toEqual(Array.from({ length: 30 }, (_, i) => gen.event(6 + i)));
    // nothing due: the poll waits for the next event (event 36, due in 1 ms)
    expect((await settle(clock, reader.poll())).values).toEqual([gen.event(36)]);
    clock.advance(100);
    const rest = await drain(reader);
    expect(rest.values).toEqual(Array.from({ length: 13 }, (_, i) => gen.event(37 + i)));
    expect(rest.timestamps).toEqual(rest.values.map((e) => e.dateTime));
  });

  it('warms the generator up when opened, leaving the clock to start at the first poll', async () => {
    const clock = new ManualClock(START);
    const reader = nexmarkSource({ events: 20, seed: 3, rate: 1000, ratePerSecond: 1000 }).createReader(testSourceContext({ clock }));
    await reader.open!();
    expect(clock.scheduledCount).toBe(0);
    clock.advance(1000); // the first poll comes later: event 0 is due then, not at START
    const gen = new NexmarkGenerator({ seed: 3, rate: 1000, baseTime: START + 1000 });
    expect(await reader.poll()).toEqual({ values: [gen.event(0)], timestamps: [START + 1000] });
  });

  it('waits at most maxPollWaitMs per poll, and hands back nothing if the next event is not due by then', async () => {
    const clock = new ManualClock(START);
    const reader = nexmarkSource({ events: 10, rate: 10, ratePerSecond: 10 }).createReader(testSourceContext({ clock, maxPollWaitMs: 20 }));
    expect((await reader.poll()).values).toHaveLength(1); // event 0; event 1 is due 100 ms later
    expect(await settle(clock, reader.poll())).toEqual({ values: [], timestamps: [] });
    expect(clock.now()).toBe(START + 20);
  });

  it('makes the same events as the unpaced source, in the same order, out of order (g > 1) too', async () => {
    for (const ooo of [1, 7]) {
      const clock = new ManualClock(START);
      const config = { events: 3000, seed: 9, rate: 100_000, ooo, baseTime: START };
      const ctx = testSourceContext({ clock, maxBatchSize: 100 });
      const reader = nexmarkSource({ ...config, ratePerSecond: 100_000 }).createReader(ctx);
      const paced: NexmarkEvent[] = [];
      let done = false;
      for (let polls = 0; !done; polls++) {
        if (polls > 10_000) expect.fail('the paced reader did not finish');
        const batch = await settle(clock, reader.poll());
        // never an event that is not due yet, and in event-number order
        for (const e of batch.values) expect(e.dateTime).toBeLessThanOrEqual(clock.now());
        paced.push(...batch.values);
        done = batch.done === true;
        clock.advance(polls % 3); // polls 0, 1 or 2 ms apart
      }
      const unpaced = await drain(nexmarkSource(config).createReader(testSourceContext({ maxBatchSize: 100 })));
      expect(paced, `ooo ${ooo}`).toEqual(unpaced.values);
    }
  });
});
