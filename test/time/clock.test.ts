import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/time/clock.js';

describe('ManualClock', () => {
  it('moves only when told to, and runs due callbacks in time order, then in scheduling order', () => {
    const clock = new ManualClock(1000);
    const seen: string[] = [];
    clock.schedule(1500, () => seen.push(`b@${clock.now()}`));
    clock.schedule(1200, () => seen.push(`a@${clock.now()}`));
    clock.schedule(1500, () => seen.push(`c@${clock.now()}`));
    clock.schedule(3000, () => seen.push('late'));
    expect(clock.now()).toBe(1000);
    expect(seen).toEqual([]);
    clock.advance(500);
    expect(seen).toEqual(['a@1200', 'b@1500', 'c@1500']);
    expect(clock.now()).toBe(1500);
    expect(clock.scheduledCount).toBe(1);
  });

  it('cancel removes a callback', () => {
    const clock = new ManualClock();
    let fired = false;
    const cancel = clock.schedule(10, () => (fired = true));
    cancel();
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.scheduledCount).toBe(0);
  });

  it('callbacks scheduled by callbacks run in the same advance when due', () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    clock.schedule(10, () => {
      seen.push(clock.now());
      clock.schedule(clock.now() + 5, () => seen.push(clock.now()));
    });
    clock.set(20);
    expect(seen).toEqual([10, 15]);
    expect(clock.now()).toBe(20);
  });

  it('cannot move backwards', () => {
    const clock = new ManualClock(100);
    expect(() => clock.set(50)).toThrow(RangeError);
  });

  it('sleep resolves when time is advanced', async () => {
    const clock = new ManualClock();
    let done = false;
    const p = clock.sleep(100).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(99);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });
});
