import { describe, expect, it } from 'vitest';
import { compareRows, reconcile } from '../../src/nexmark/reconcile.js';
import { QUERY_NAMES } from '../../src/nexmark/queries/index.js';

// 20,000 events at 1,000 per second of event time: 20 s, so that the 10 s windows, the
// 2 s slides and the 10 s session gaps all close several times.
const EVENTS = 20_000;
const RATE = 1000;

describe('Nexmark queries reconcile with DuckDB', () => {
  it.each([
    ['in order', 1],
    ['out of order (groups of 1000)', 1000],
  ])('%s: every query equals the batch answer as a multiset', async (_label, ooo) => {
    const results = await reconcile({ events: EVENTS, rate: RATE, seed: 11, ooo });
    expect(results.map((r) => r.query)).toEqual(QUERY_NAMES);
    for (const r of results) {
      expect(r.diff, `${r.query} (seed 11, ooo ${ooo})`).toBe('');
      expect(r.batchRows, `${r.query} has rows to compare`).toBeGreaterThan(0);
    }
  }, 60_000);

  it('at parallelism 2 (worker threads, keyed exchanges), every query still equals the batch answer', async () => {
    const results = await reconcile({ events: EVENTS, rate: RATE, seed: 12, ooo: 1000, parallelism: 2 });
    for (const r of results) {
      expect(r.diff, `${r.query} (seed 12, parallelism 2)`).toBe('');
      expect(r.batchRows).toBeGreaterThan(0);
    }
  }, 120_000);

  it('a watermark too tight for the disorder loses late bids, and the diff says which rows', async () => {
    const [r] = await reconcile({ events: EVENTS, rate: RATE, seed: 11, ooo: 10_000, queries: ['q11'], watermarkDelayMs: 0 });
    expect(r!.equal).toBe(false);
    expect(r!.diff).toMatch(/in the batch answer but not in the stream/);
  }, 60_000);

  it('compares rows as multisets: a duplicate is a difference', () => {
    const row = { a: 1, b: 'x' };
    expect(compareRows([row, row], [row], ['a', 'b']).equal).toBe(false);
    expect(compareRows([row, { a: 2, b: 'y' }], [{ a: 2, b: 'y' }, row], ['a', 'b']).equal).toBe(true);
    expect(compareRows([{ a: 0.1 + 0.2 }], [{ a: 0.3 }], ['a']).equal).toBe(true);
  });
});
