import { describe, expect, it } from 'vitest';
import { timeWindow } from '../../../src/window/window.js';
import { FakeTriggerContext } from './fake-context.js';
import { processingTimeTrigger } from '../../../src/window/triggers/processing-time.js';

describe('processingTimeTrigger', () => {
  const w = timeWindow(0, 100);

  it('registers a processing-time timer at the window end - 1 and fires when the clock reaches it', () => {
    const t = processingTimeTrigger<string>();
    const ctx = new FakeTriggerContext({ now: 10 });
    expect(t.onElement('a', 10, w, ctx.at(w))).toBe('continue');
    expect(t.onElement('b', 20, w, ctx.at(w))).toBe('continue');
    expect(ctx.processingTimers(w)).toEqual([99]);
    expect(ctx.eventTimers(w)).toEqual([]);
    expect(ctx.advanceProcessingTime(98, t)).toEqual([]);
    expect(ctx.advanceProcessingTime(99, t)).toEqual([{ window: w, time: 99, result: 'fire' }]);
  });

  it('ignores event time', () => {
    const ctx = new FakeTriggerContext();
    expect(processingTimeTrigger().onEventTime(99, w, ctx.at(w))).toBe('continue');
  });

  it('deletes its timer on clear', () => {
    const t = processingTimeTrigger<string>();
    const ctx = new FakeTriggerContext();
    t.onElement('a', 0, w, ctx.at(w));
    t.clear(w, ctx.at(w));
    expect(ctx.processingTimers(w)).toEqual([]);
  });

  it('on merge registers the merged window end unless the clock has passed it', () => {
    const t = processingTimeTrigger<string>();
    expect(t.canMerge?.()).toBe(true);
    const ctx = new FakeTriggerContext({ now: 50 });
    t.onMerge?.(w, ctx.merging([timeWindow(0, 60), timeWindow(40, 100)], w));
    expect(ctx.processingTimers(w)).toEqual([99]);
    const old = timeWindow(0, 40);
    t.onMerge?.(old, ctx.at(old));
    expect(ctx.processingTimers(old)).toEqual([]);
  });
});
