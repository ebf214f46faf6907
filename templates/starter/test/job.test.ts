import { JobHarness } from 'sluice/testing';
import { describe, expect, it } from 'vitest';
import { clicksPerUser, type Click } from '../src/job.js';

const click = (user: string, at: number): Click => ({ user, page: '/', at });

describe('clicksPerUser', () => {
  it("counts each user's clicks per 10 s window once the watermark passes the window's end", async () => {
    // The harness runs the job under a manual clock; event time comes from what the test pushes.
    const h = new JobHarness();
    const clicks = h.input<Click>('clicks');
    const counts = h.output(clicksPerUser(clicks.stream));
    h.start();

    clicks.push(click('ada', 1_000), 1_000).push(click('grace', 2_000), 2_000).push(click('ada', 9_999), 9_999);
    clicks.push(click('ada', 10_000), 10_000); // the next window
    await h.settle();
    expect(counts.values).toEqual([]); // no watermark yet: nothing is final

    clicks.pushWatermark(9_999); // the first window [0, 10 s) is complete
    await h.settle();
    const first = counts.take().map((r) => [r.key, r.start, r.end, r.value]);
    expect(first.sort()).toEqual([
      ['ada', 0, 10_000, 2],
      ['grace', 0, 10_000, 1],
    ]);

    await h.finish(); // the end of input fires the windows still open
    expect(counts.values.map((r) => [r.key, r.start, r.value])).toEqual([['ada', 10_000, 1]]);
  });
});
