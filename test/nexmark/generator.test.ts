import { describe, expect, it } from 'vitest';
import { fingerprint, NexmarkGenerator } from '../../src/nexmark/generator.js';
import { priceByPow, priceOf } from '../../src/nexmark/prng.js';

describe('Nexmark generator', () => {
  const gen = new NexmarkGenerator({ seed: 42, rate: 10_000 });

  it('lays out blocks of 50: 1 person, 3 auctions, 46 bids, with ids from 1000', () => {
    const types = Array.from({ length: 100 }, (_, n) => gen.event(n).type);
    expect(types.slice(0, 50).filter((t) => t === 'person')).toHaveLength(1);
    expect(types.slice(0, 4)).toEqual(['person', 'auction', 'auction', 'auction']);
    expect(types.slice(4, 50).every((t) => t === 'bid')).toBe(true);
    expect(gen.event(50)).toMatchObject({ type: 'person', id: 1001 });
    expect(gen.event(53)).toMatchObject({ type: 'auction', id: 1005 });
  });

  it('is a function of the event number (splittable) and of the seed', () => {
    expect(gen.event(123_456)).toEqual(new NexmarkGenerator({ seed: 42, rate: 10_000 }).event(123_456));
    expect(gen.event(123_456)).not.toEqual(new NexmarkGenerator({ seed: 43, rate: 10_000 }).event(123_456));
  });

  it('stamps event n at baseTime + floor(n * 1000 / rate) ms, and shuffles within groups of g', () => {
    expect(gen.event(0).dateTime).toBe(1_700_000_000_000);
    expect(gen.event(12_345).dateTime).toBe(1_700_000_001_234);
    const ooo = new NexmarkGenerator({ seed: 42, rate: 1000, ooo: 10 });
    const times = Array.from({ length: 10 }, (_, n) => ooo.timeOf(n) - 1_700_000_000_000);
    expect([...times].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(times).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(times[3]).toBe((3 * 953) % 10);
  });

  it('draws sellers, bidders, auctions, categories, states and prices within the spec', () => {
    for (let n = 50_000; n < 60_000; n++) {
      const e = gen.event(n);
      const block = Math.floor(n / 50);
      if (e.type === 'auction') {
        expect(e.category).toBeGreaterThanOrEqual(10);
        expect(e.category).toBeLessThanOrEqual(14);
        expect(e.seller).toBeLessThanOrEqual(1000 + block + 10);
        expect(e.seller).toBeGreaterThanOrEqual(1000 + block + 1 - 1000);
        expect(e.reserve).toBeGreaterThan(e.initialBid);
        expect(e.expires).toBeGreaterThanOrEqual(e.dateTime);
      } else if (e.type === 'bid') {
        expect(e.price).toBeGreaterThanOrEqual(1);
        expect(e.price).toBeLessThanOrEqual(100_000_000);
        expect(e.auction).toBeLessThanOrEqual(1000 + block * 3 + 2 + 10);
        expect(e.channel).toMatch(/^(Google|Facebook|Baidu|Apple|channel-\d{1,4})$/);
      } else {
        expect(['AZ', 'CA', 'ID', 'OR', 'WA', 'WY']).toContain(e.state);
      }
    }
  });

  it('computes prices from the table exactly as round(10^(u*6)*100) with Math.pow', () => {
    let x = 12345;
    for (let i = 0; i < 1_000_000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      if (priceOf(x) !== priceByPow(x)) expect.fail(`price of ${x}: table ${priceOf(x)}, pow ${priceByPow(x)}`);
    }
  });

  it('keeps its fingerprint (the Java port beside Flink must print the same)', () => {
    // `java -cp … sluice.nexmark.FlinkNexmark --fingerprint` prints this for seed 42, rate 10000, events [0, 100000).
    expect(fingerprint(gen, 0, 100_000)).toBe(FINGERPRINT_SEED42_RATE10K_100K);
  });
});

const FINGERPRINT_SEED42_RATE10K_100K = 2660106654;
