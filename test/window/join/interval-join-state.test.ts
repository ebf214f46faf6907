/**
 * The interval join's buffers are state: a run snapshotted and restored half-way emits
 * what an uninterrupted run emits, and buffers of a checkpoint written in the older
 * layout (map state from cleanup time to records) are joined and expire as before.
 */
import { describe, expect, it } from 'vitest';
import type { KeyedCoProcessFunction } from '../../../src/core/functions.js';
import { mapState } from '../../../src/state/descriptors.js';
import type { MapState } from '../../../src/state/types.js';
import { OperatorHarness } from '../../../src/testing/operator-harness.js';
import { IntervalJoinLateCounts, intervalJoinFunction } from '../../../src/window/join/interval-join-function.js';

interface E {
  k: string;
  id: string;
  ts: number;
}
const LEFT = 0;
const RIGHT = 1;

function join(): OperatorHarness<E, string> {
  const fn = intervalJoinFunction<E, E, string, string>(
    { lower: -1000, upper: 1000, lowerExclusive: false, upperExclusive: false },
    (a, b, ctx, out) => out.collect(`${a.id}-${b.id}@${ctx.timestamp}`),
    new IntervalJoinLateCounts(),
  );
  return OperatorHarness.keyedCoProcess<string, E, E, string>(fn, (e) => e.k, (e) => e.k, { uid: 'ij' });
}
const push = (h: OperatorHarness<E, string>, side: number, id: string, ts: number, k = 'x') => h.processElement({ k, id, ts }, ts, side);

describe('interval join state', () => {
  it('a run restored from a snapshot half-way emits what an uninterrupted run emits', () => {
    const firstHalf = (h: OperatorHarness<E, string>) => {
      push(h, LEFT, 'a', 1000);
      push(h, RIGHT, 'b', 1500);
      push(h, LEFT, 'z', 300, 'y');
      h.processWatermark(900);
    };
    const secondHalf = (h: OperatorHarness<E, string>) => {
      push(h, RIGHT, 'c', 1900);
      push(h, LEFT, 'd', 2500);
      push(h, RIGHT, 'w', 1200, 'y'); // y's z (300) can match up to 1300
      h.processWatermark(2600); // a (kept until 2000) goes; b (1500 + 1000) stays
      push(h, LEFT, 'e', 2600); // meets b? 1500 < 2600 - 1000: no; c (1900): yes
    };
    const whole = join();
    firstHalf(whole);
    secondHalf(whole);
    const before = join();
    firstHalf(before);
    const restored = join().initializeState(before.snapshot());
    secondHalf(restored);
    expect([...before.values, ...restored.values]).toEqual(whole.values);
    expect(whole.values.sort()).toEqual(['a-b@1500', 'a-c@1900', 'd-b@2500', 'd-c@2500', 'e-c@2600', 'z-w@1200'].sort());
  });

  it('joins and expires buffers checkpointed in the older layout', () => {
    // A function that leaves state as the join kept it before: left records in buckets by cleanup time, one timer per bucket.
    let buckets!: MapState<number, { ts: number[]; values: E[] }>;
    const writer: KeyedCoProcessFunction<string, E, E, string> = {
      open(ctx) {
        buckets = ctx.state(mapState<number, { ts: number[]; values: E[] }>('interval-join-left'));
      },
      processElement1(a, ctx) {
        const cleanup = a.ts + 1000 + 1;
        buckets.put(cleanup, { ts: [a.ts], values: [a] });
        ctx.timerService.registerEventTimeTimer(cleanup);
      },
      processElement2() {},
    };
    const old = OperatorHarness.keyedCoProcess<string, E, E, string>(writer, (e) => e.k, (e) => e.k, { uid: 'ij' });
    push(old, LEFT, 'a', 1000);
    const h = join().initializeState(old.snapshot());
    push(h, RIGHT, 'b', 1800);
    push(h, RIGHT, 'c', 2000);
    h.processWatermark(2001); // a's cleanup: it can match nothing from now on
    push(h, RIGHT, 'd', 2001);
    push(h, LEFT, 'e', 2500); // meets the right records (b, c, d)
    expect(h.values).toEqual(['a-b@1800', 'a-c@2000', 'e-b@2500', 'e-c@2500', 'e-d@2500']);
  });
});
