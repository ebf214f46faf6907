import { describe, expect, it, vi } from 'vitest';
import cardFraudJob, { cardFraud, unfinished, type Txn } from '../../examples/card-fraud.js';
import { JobHarness } from '../../src/testing/index.js';

const min = 60_000;
const txn = (card: string, amount: number, minute: number): [Txn, number] => [{ card, amount, at: minute * min }, minute * min];

describe('examples/card-fraud', () => {
  it('alerts on three small transactions then a large one within ten minutes, per card, in event-time order', async () => {
    const h = new JobHarness();
    const txns = h.input<Txn>('txns');
    const alerts = cardFraud(txns.stream);
    const out = h.output(alerts);
    const timedOut = h.output(alerts.sideOutput(unfinished));
    h.start();
    txns.pushAll([
      txn('a', 5, 1),
      txn('b', 2, 1),
      txn('a', 3, 3),
      txn('a', 900, 5), // happened after the third small one below, arrives before it
      txn('a', 8, 4),
      txn('b', 4, 2),
      txn('b', 50, 3), // medium: skipped, the pattern is relaxed
      txn('b', 1, 4),
      txn('b', 600, 12), // 11 minutes after b's first small one: too late
    ]);
    txns.pushWatermark(6 * min);
    await h.settle();
    expect(out.values).toEqual([{ card: 'a', small: [5, 3, 8], large: 900, at: 5 * min }]);
    await h.finish();
    expect(out.values.length).toBe(1);
    // b's partial matches ran out of time: from its 1st, 2nd and 3rd small transaction.
    expect(timedOut.values.map((t) => [t.match.small.map((s) => s.amount), t.timeoutAt / min])).toEqual([
      [[2, 4, 1], 11],
      [[4, 1], 12],
      [[1], 14],
    ]);
  });

  it('the example job runs to its end, printing alerts and unfinished matches', async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    try {
      await cardFraudJob(['3000']).run();
    } finally {
      write.mockRestore();
    }
    const alerts = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { small: number[]; large: number });
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      expect(a.small.length).toBe(3);
      expect(a.small.every((x) => x < 10) && a.large >= 500).toBe(true);
    }
    expect(lines.some((l) => l.startsWith('unfinished:'))).toBe(true);
  });
});
