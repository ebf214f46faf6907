import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { GLOBAL_WINDOW, timeWindow } from '../../../src/window/window.js';
import { COUNT_TRIGGER_STATE, countTrigger } from '../../../src/window/triggers/count.js';
import { FakeTriggerContext } from './fake-context.js';

describe('countTrigger', () => {
  it('fires on every n-th record of a window and starts counting again', () => {
    const t = countTrigger<string>(3);
    const ctx = new FakeTriggerContext().at(GLOBAL_WINDOW);
    const results = Array.from({ length: 7 }, (_, i) => t.onElement(`r${i}`, i, GLOBAL_WINDOW, ctx));
    expect(results).toEqual(['continue', 'continue', 'fire', 'continue', 'continue', 'fire', 'continue']);
    expect(ctx.state(COUNT_TRIGGER_STATE).get()).toBe(1);
    expect(ctx.eventTimers()).toEqual([]);
    expect(ctx.processingTimers()).toEqual([]);
  });

  it('fires on every record with n = 1, and never on time', () => {
    const t = countTrigger<string>(1);
    const ctx = new FakeTriggerContext().at(GLOBAL_WINDOW);
    expect(t.onElement('a', 0, GLOBAL_WINDOW, ctx)).toBe('fire');
    expect(t.onElement('b', 0, GLOBAL_WINDOW, ctx)).toBe('fire');
    expect(t.onEventTime(0, GLOBAL_WINDOW, ctx)).toBe('continue');
    expect(t.onProcessingTime(0, GLOBAL_WINDOW, ctx)).toBe('continue');
  });

  it('counts each window on its own', () => {
    const t = countTrigger<string>(2);
    const a = timeWindow(0, 10);
    const b = timeWindow(10, 20);
    const ctx = new FakeTriggerContext();
    expect(t.onElement('x', 1, a, ctx.at(a))).toBe('continue');
    expect(t.onElement('y', 11, b, ctx.at(b))).toBe('continue');
    expect(t.onElement('z', 2, a, ctx.at(a))).toBe('fire');
    expect(t.onElement('w', 12, b, ctx.at(b))).toBe('fire');
  });

  it('adds up the counts of merged windows and fires with the next record once they reach n', () => {
    const t = countTrigger<string>(3);
    expect(t.canMerge?.()).toBe(true);
    const a = timeWindow(0, 10);
    const b = timeWindow(5, 15);
    const merged = timeWindow(0, 15);
    const ctx = new FakeTriggerContext();
    t.onElement('1', 0, a, ctx.at(a));
    t.onElement('2', 1, a, ctx.at(a));
    t.onElement('3', 5, b, ctx.at(b));
    t.onMerge?.(merged, ctx.merging([a, b], merged));
    expect(ctx.state(COUNT_TRIGGER_STATE).get()).toBe(3);
    expect(ctx.at(a).state(COUNT_TRIGGER_STATE).get()).toBeUndefined();
    // As in Flink, the merge itself does not fire: the next record does.
    expect(t.onElement('4', 6, merged, ctx.at(merged))).toBe('fire');
    expect(ctx.state(COUNT_TRIGGER_STATE).get()).toBeUndefined();
  });

  it('clears its count on clear', () => {
    const t = countTrigger<string>(5);
    const ctx = new FakeTriggerContext().at(GLOBAL_WINDOW);
    t.onElement('a', 0, GLOBAL_WINDOW, ctx);
    t.clear(GLOBAL_WINDOW, ctx);
    expect(ctx.backend.size()).toBe(0);
  });

  it('rejects n that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => countTrigger(n)).toThrow(SluiceError);
    }
    expect(countTrigger(4).describe?.()).toBe('count 4');
  });
});
