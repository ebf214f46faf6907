import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { GLOBAL_WINDOW, timeWindow } from '../../../src/window/window.js';
import {
  CONTINUOUS_EVENT_TIME_STATE,
  CONTINUOUS_PROCESSING_TIME_STATE,
  continuousEventTimeTrigger,
  continuousProcessingTimeTrigger,
} from '../../../src/window/triggers/continuous.js';
import { FakeTriggerContext } from './fake-context.js';

const times = (fired: Array<{ time: number; result: string }>) => fired.map((f) => [f.time, f.result]);

describe('continuousEventTimeTrigger', () => {
  const w = timeWindow(0, 100);

  it('fires at every multiple of the interval the watermark passes, and at the window end', () => {
    const t = continuousEventTimeTrigger<string>(10);
    const ctx = new FakeTriggerContext({ watermark: 0 });
    expect(t.onElement('a', 3, w, ctx.at(w))).toBe('continue');
    expect(ctx.eventTimers(w)).toEqual([10, 99]);
    expect(ctx.state(CONTINUOUS_EVENT_TIME_STATE).get()).toBe(10);
    // A second record does not reschedule.
    expect(t.onElement('b', 27, w, ctx.at(w))).toBe('continue');
    expect(ctx.eventTimers(w)).toEqual([10, 99]);
    expect(times(ctx.advanceWatermark(10, t))).toEqual([[10, 'fire']]);
    expect(ctx.eventTimers(w)).toEqual([20, 99]);
    expect(times(ctx.advanceWatermark(35, t))).toEqual([[20, 'fire'], [30, 'fire']]);
    expect(times(ctx.advanceWatermark(99, t))).toEqual([40, 50, 60, 70, 80, 90, 99].map((x) => [x, 'fire']));
    expect(ctx.eventTimers(w)).toEqual([]);
  });

  it("aligns the first firing as Flink does (ts - ts % interval, toward zero for negative timestamps), and caps it at the window end", () => {
    const t = continuousEventTimeTrigger<string>(10);
    const neg = timeWindow(-100, 0);
    const ctx = new FakeTriggerContext();
    // -15 - (-15 % 10) = -10, so the next firing would be 0: capped at the window end -1.
    t.onElement('a', -15, neg, ctx.at(neg));
    expect(ctx.eventTimers(neg)).toEqual([-1]);
    const neg2 = timeWindow(-200, -100);
    t.onElement('b', -195, neg2, ctx.at(neg2));
    expect(ctx.eventTimers(neg2)).toEqual([-180, -101]); // -190 + 10
    const short = timeWindow(0, 25);
    t.onElement('b', 22, short, ctx.at(short));
    expect(ctx.eventTimers(short)).toEqual([24]);
    expect(times(ctx.advanceWatermark(24, t).filter((f) => f.window.end === 25))).toEqual([[24, 'fire']]);
  });

  it('fires at once for a record that arrives after the watermark passed the window end', () => {
    const t = continuousEventTimeTrigger<string>(10);
    const ctx = new FakeTriggerContext({ watermark: 150 });
    expect(t.onElement('late', 50, w, ctx.at(w))).toBe('fire');
    expect(ctx.eventTimers(w)).toEqual([]);
  });

  it('ignores processing time and stray event-time timers', () => {
    const t = continuousEventTimeTrigger<string>(10);
    const ctx = new FakeTriggerContext();
    t.onElement('a', 3, w, ctx.at(w));
    expect(t.onEventTime(15, w, ctx.at(w))).toBe('continue');
    expect(t.onProcessingTime(10, w, ctx.at(w))).toBe('continue');
  });

  it('keeps the earliest next firing when windows merge, and clear removes its timers and state', () => {
    const t = continuousEventTimeTrigger<string>(10);
    expect(t.canMerge?.()).toBe(true);
    const a = timeWindow(3, 33);
    const b = timeWindow(15, 45);
    const merged = timeWindow(3, 45);
    const ctx = new FakeTriggerContext();
    t.onElement('a', 3, a, ctx.at(a));
    t.onElement('b', 15, b, ctx.at(b));
    t.onMerge?.(merged, ctx.merging([a, b], merged));
    expect(ctx.state(CONTINUOUS_EVENT_TIME_STATE).get()).toBe(10);
    expect(ctx.eventTimers(merged)).toEqual([10, 44]);
    t.clear(merged, ctx.at(merged));
    expect(ctx.eventTimers(merged)).toEqual([]);
    expect(ctx.state(CONTINUOUS_EVENT_TIME_STATE).get()).toBeUndefined();
  });

  it('rejects an interval that is not positive', () => {
    expect(() => continuousEventTimeTrigger(0)).toThrow(SluiceError);
    expect(continuousEventTimeTrigger('1m').describe?.()).toBe('continuous event time every 60000ms');
  });
});

describe('continuousProcessingTimeTrigger', () => {
  const w = timeWindow(0, 100);

  it('fires at every multiple of the interval the clock passes, the last one at the window end', () => {
    const t = continuousProcessingTimeTrigger<string>(10);
    const ctx = new FakeTriggerContext({ now: 3 });
    expect(t.onElement('a', 0, w, ctx.at(w))).toBe('continue');
    expect(ctx.processingTimers(w)).toEqual([10]);
    expect(ctx.eventTimers(w)).toEqual([]);
    expect(times(ctx.advanceProcessingTime(25, t))).toEqual([[10, 'fire'], [20, 'fire']]);
    expect(ctx.state(CONTINUOUS_PROCESSING_TIME_STATE).get()).toBe(30);
    expect(times(ctx.advanceProcessingTime(200, t))).toEqual([30, 40, 50, 60, 70, 80, 90, 99].map((x) => [x, 'fire']));
    expect(ctx.processingTimers(w)).toEqual([]);
    expect(t.onEventTime(99, w, ctx.at(w))).toBe('continue');
  });

  it('schedules from the processing time, not the record timestamp, and keeps firing in a global window', () => {
    const t = continuousProcessingTimeTrigger<string>(10);
    const ctx = new FakeTriggerContext({ now: 1_005 });
    t.onElement('a', -50_000, GLOBAL_WINDOW, ctx.at(GLOBAL_WINDOW));
    expect(ctx.processingTimers(GLOBAL_WINDOW)).toEqual([1_010]);
    expect(times(ctx.advanceProcessingTime(1_030, t))).toEqual([[1_010, 'fire'], [1_020, 'fire'], [1_030, 'fire']]);
    expect(ctx.processingTimers(GLOBAL_WINDOW)).toEqual([1_040]);
  });

  it('keeps the earliest next firing when windows merge, and clear removes it', () => {
    const t = continuousProcessingTimeTrigger<string>(10);
    const a = timeWindow(0, 50);
    const b = timeWindow(40, 90);
    const merged = timeWindow(0, 90);
    const ctx = new FakeTriggerContext({ now: 5 });
    t.onElement('a', 0, a, ctx.at(a));
    ctx.clock.set(12);
    t.onElement('b', 0, b, ctx.at(b));
    t.onMerge?.(merged, ctx.merging([a, b], merged));
    expect(ctx.processingTimers(merged)).toEqual([10]);
    t.clear(merged, ctx.at(merged));
    expect(ctx.processingTimers(merged)).toEqual([]);
    expect(ctx.state(CONTINUOUS_PROCESSING_TIME_STATE).get()).toBeUndefined();
  });
});
