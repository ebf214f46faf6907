import { describe, expect, it } from 'vitest';
import { WatermarkValve } from '../../src/runtime/watermark-valve.js';

describe('WatermarkValve', () => {
  it('starts at -Infinity and with one input follows it', () => {
    const v = new WatermarkValve(1);
    expect(v.current).toBe(Number.NEGATIVE_INFINITY);
    expect(v.watermark(0, 5)).toBe(5);
    expect(v.watermark(0, 9)).toBe(9);
    expect(v.current).toBe(9);
  });

  it('is the minimum over the inputs, and advances only when the minimum does', () => {
    const v = new WatermarkValve(3);
    expect(v.watermark(0, 10)).toBeUndefined();
    expect(v.watermark(1, 20)).toBeUndefined();
    expect(v.watermark(2, 5)).toBe(5);
    expect(v.watermark(2, 30)).toBe(10);
    expect(v.watermark(1, 25)).toBeUndefined(); // input 0 (10) still the min
    expect(v.watermark(0, 40)).toBe(25);
    expect(v.current).toBe(25);
  });

  it('never moves backwards, even when an input goes back', () => {
    const v = new WatermarkValve(2);
    v.watermark(0, 10);
    expect(v.watermark(1, 10)).toBe(10);
    expect(v.watermark(0, 3)).toBeUndefined(); // a lower watermark of one input is ignored
    expect(v.current).toBe(10);
    expect(v.watermark(1, 20)).toBeUndefined(); // input 0 stays at 10
    expect(v.watermark(0, 15)).toBe(15);
  });

  it('an idle input stops holding the watermark back, and holds it again when active', () => {
    const v = new WatermarkValve(2);
    v.watermark(0, 100);
    expect(v.current).toBe(Number.NEGATIVE_INFINITY);
    expect(v.setIdle(1, true)).toBe(100);
    expect(v.isIdle).toBe(false);
    expect(v.watermark(0, 150)).toBe(150);
    // input 1 comes back with an older watermark: the combined one does not go back
    expect(v.setIdle(1, false)).toBeUndefined();
    expect(v.watermark(1, 120)).toBeUndefined();
    expect(v.current).toBe(150);
    expect(v.watermark(0, 300)).toBeUndefined(); // held back by input 1 at 120 (< 150)
    expect(v.watermark(1, 200)).toBe(200);
  });

  it('a watermark from an idle input makes it active again', () => {
    const v = new WatermarkValve(2);
    v.watermark(0, 50);
    v.setIdle(1, true);
    expect(v.current).toBe(50);
    expect(v.watermark(1, 60)).toBeUndefined(); // 1 is active at 60, 0 at 50
    expect(v.watermark(0, 100)).toBe(60);
  });

  it('all inputs idle: the valve is idle and the watermark stays', () => {
    const v = new WatermarkValve(2);
    v.watermark(0, 10);
    v.watermark(1, 20);
    expect(v.current).toBe(10);
    expect(v.setIdle(0, true)).toBe(20);
    expect(v.setIdle(1, true)).toBeUndefined();
    expect(v.isIdle).toBe(true);
    expect(v.current).toBe(20);
    expect(v.setIdle(0, false)).toBeUndefined(); // active again at 10: no advance, no regress
    expect(v.isIdle).toBe(false);
    expect(v.current).toBe(20);
  });

  it('an ended input no longer holds the watermark back', () => {
    const v = new WatermarkValve(2);
    v.watermark(0, 10);
    v.watermark(1, 50);
    expect(v.end(0)).toBe(50);
    expect(v.watermark(1, 70)).toBe(70);
  });

  it('all inputs ended: the watermark is +Infinity', () => {
    const v = new WatermarkValve(3);
    v.watermark(0, 1);
    v.end(0);
    v.end(1);
    expect(v.end(2)).toBe(Number.POSITIVE_INFINITY);
    expect(v.current).toBe(Number.POSITIVE_INFINITY);
    expect(v.isIdle).toBe(false);
  });

  it('unlike Flink, an ended input does not push the watermark past an idle one', () => {
    const v = new WatermarkValve(2);
    v.watermark(0, 10);
    v.watermark(1, 5);
    expect(v.current).toBe(5);
    expect(v.setIdle(1, true)).toBe(10);
    // input 0 ends: the only open input (1) is idle, so the valve is idle and stays at 10
    expect(v.end(0)).toBeUndefined();
    expect(v.isIdle).toBe(true);
    expect(v.current).toBe(10);
    // the idle input resumes and drives the watermark again
    expect(v.watermark(1, 8)).toBeUndefined();
    expect(v.isIdle).toBe(false);
    expect(v.watermark(1, 30)).toBe(30);
    expect(v.end(1)).toBe(Number.POSITIVE_INFINITY);
  });

  it('an input at the final watermark counts as ended: it does not push the watermark past an idle one', () => {
    // A finished source sends the final watermark (+Infinity) before its end event.
    const v = new WatermarkValve(2);
    v.watermark(0, 10);
    v.watermark(1, 5);
    v.setIdle(1, true);
    expect(v.current).toBe(10);
    expect(v.watermark(0, Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(v.isIdle).toBe(true);
    expect(v.current).toBe(10);
    expect(v.end(0)).toBeUndefined();
    expect(v.watermark(1, 20)).toBe(20);
    expect(v.watermark(1, Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('every input at the final watermark: +Infinity before any end event', () => {
    const v = new WatermarkValve(2);
    v.watermark(0, Number.POSITIVE_INFINITY);
    expect(v.current).toBe(Number.NEGATIVE_INFINITY);
    expect(v.watermark(1, Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(v.isIdle).toBe(false);
  });
});
