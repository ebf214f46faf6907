import { describe, expect, it } from 'vitest';
import { GLOBAL_WINDOW } from '../../../src/window/window.js';
import { FakeTriggerContext } from './fake-context.js';
import { neverTrigger } from '../../../src/window/triggers/never.js';

describe('neverTrigger', () => {
  it('never fires and registers nothing', () => {
    const t = neverTrigger<number>();
    const ctx = new FakeTriggerContext().at(GLOBAL_WINDOW);
    expect(t.onElement(1, 0, GLOBAL_WINDOW, ctx)).toBe('continue');
    expect(t.onEventTime(Number.POSITIVE_INFINITY, GLOBAL_WINDOW, ctx)).toBe('continue');
    expect(t.onProcessingTime(0, GLOBAL_WINDOW, ctx)).toBe('continue');
    t.onMerge?.(GLOBAL_WINDOW, ctx);
    t.clear(GLOBAL_WINDOW, ctx);
    expect(ctx.eventTimers()).toEqual([]);
    expect(ctx.processingTimers()).toEqual([]);
    expect(ctx.backend.size()).toBe(0);
  });
});
