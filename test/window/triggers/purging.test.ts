import { describe, expect, it } from 'vitest';
import type { Trigger } from '../../../src/window/trigger.js';
import { GLOBAL_WINDOW, timeWindow } from '../../../src/window/window.js';
import { countTrigger } from '../../../src/window/triggers/count.js';
import { eventTimeTrigger } from '../../../src/window/triggers/event-time.js';
import { FakeTriggerContext } from './fake-context.js';
import { purging } from '../../../src/window/triggers/purging.js';

describe('purging', () => {
  it('turns each fire into fire-and-purge', () => {
    const t = purging(countTrigger<string>(2));
    const ctx = new FakeTriggerContext().at(GLOBAL_WINDOW);
    expect(['a', 'b', 'c', 'd'].map((r) => t.onElement(r, 0, GLOBAL_WINDOW, ctx))).toEqual(['continue', 'fire-and-purge', 'continue', 'fire-and-purge']);
    const w = timeWindow(0, 10);
    const e = purging(eventTimeTrigger<string>());
    expect(e.onElement('a', 1, w, ctx.at(w))).toBe('continue');
    expect(ctx.advanceWatermark(9, e)).toEqual([{ window: w, time: 9, result: 'fire-and-purge' }]);
    expect(e.kind).toBe('purging(event-time)');
    expect(e.describe?.()).toBe('purging(event time)');
  });

  it('passes purge, fire-and-purge and continue through unchanged', () => {
    const inner: Trigger<string> = {
      kind: 'scripted',
      onElement: (e) => (e === 'p' ? 'purge' : e === 'fp' ? 'fire-and-purge' : 'continue'),
      onEventTime: () => 'purge',
      onProcessingTime: () => 'fire',
      clear: () => {},
    };
    const t = purging(inner);
    const ctx = new FakeTriggerContext().at(GLOBAL_WINDOW);
    expect(t.onElement('p', 0, GLOBAL_WINDOW, ctx)).toBe('purge');
    expect(t.onElement('fp', 0, GLOBAL_WINDOW, ctx)).toBe('fire-and-purge');
    expect(t.onElement('x', 0, GLOBAL_WINDOW, ctx)).toBe('continue');
    expect(t.onEventTime(0, GLOBAL_WINDOW, ctx)).toBe('purge');
    expect(t.onProcessingTime(0, GLOBAL_WINDOW, ctx)).toBe('fire-and-purge');
    // Merging is the inner trigger's: this one cannot merge.
    expect(t.canMerge?.()).toBe(false);
    expect(t.onMerge).toBeUndefined();
  });

  it('delegates timers, merging and clear to the inner trigger', () => {
    const t = purging(countTrigger<string>(3));
    expect(t.canMerge?.()).toBe(true);
    const a = timeWindow(0, 10);
    const b = timeWindow(5, 15);
    const m = timeWindow(0, 15);
    const ctx = new FakeTriggerContext();
    t.onElement('1', 0, a, ctx.at(a));
    t.onElement('2', 5, b, ctx.at(b));
    t.onMerge?.(m, ctx.merging([a, b], m));
    expect(t.onElement('3', 6, m, ctx.at(m))).toBe('fire-and-purge');
    t.onElement('4', 7, m, ctx.at(m));
    t.clear(m, ctx.at(m));
    expect(ctx.backend.size()).toBe(0);

    const e = purging(eventTimeTrigger<string>());
    e.onElement('a', 1, a, ctx.at(a));
    expect(ctx.eventTimers(a)).toEqual([9]);
    e.clear(a, ctx.at(a));
    expect(ctx.eventTimers(a)).toEqual([]);
  });
});
