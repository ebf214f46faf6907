import { describe, expect, it } from 'vitest';
import { timeWindow } from '../../../src/window/window.js';
import { eventTimeTrigger } from '../../../src/window/triggers/event-time.js';
import { FakeTriggerContext } from './fake-context.js';

describe('eventTimeTrigger', () => {
  const w = timeWindow(0, 100);

  it('registers an event-time timer at the window end - 1 and fires when the watermark reaches it', () => {
    const t = eventTimeTrigger<string>();
    const ctx = new FakeTriggerContext({ watermark: 0 });
    expect(t.onElement('a', 5, w, ctx.at(w))).toBe('continue');
    expect(ctx.eventTimers(w)).toEqual([99]);
    expect(ctx.advanceWatermark(98, t)).toEqual([]);
    expect(ctx.advanceWatermark(99, t)).toEqual([{ window: w, time: 99, result: 'fire' }]);
    expect(t.onProcessingTime(99, w, ctx.at(w))).toBe('continue');
  });

  it('fires at once for a late record (watermark already past the end)', () => {
    const t = eventTimeTrigger<string>();
    const ctx = new FakeTriggerContext({ watermark: 99 });
    expect(t.onElement('late', 5, w, ctx.at(w))).toBe('fire');
    expect(ctx.eventTimers(w)).toEqual([]);
  });

  it('does not fire for a timer that is not its window end', () => {
    const ctx = new FakeTriggerContext();
    expect(eventTimeTrigger().onEventTime(50, w, ctx.at(w))).toBe('continue');
  });

  it('on merge registers the merged end unless the watermark has passed it, and clear deletes the timer', () => {
    const t = eventTimeTrigger<string>();
    expect(t.canMerge?.()).toBe(true);
    const a = timeWindow(0, 30);
    const b = timeWindow(20, 100);
    const ctx = new FakeTriggerContext({ watermark: 10 });
    t.onElement('a', 0, a, ctx.at(a));
    t.onElement('b', 20, b, ctx.at(b));
    t.onMerge?.(w, ctx.merging([a, b], w));
    expect(ctx.eventTimers(w)).toEqual([99]);
    t.clear(w, ctx.at(w));
    expect(ctx.eventTimers(w)).toEqual([]);
    ctx.watermark = 200;
    t.onMerge?.(w, ctx.merging([a, b], w));
    expect(ctx.eventTimers(w)).toEqual([]);
  });
});
