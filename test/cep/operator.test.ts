import { describe, expect, it } from 'vitest';
import { AfterMatchSkip, Pattern } from '../../src/index.js';
import { cepHarness, is, lateTag, render, timedOutTag, type Ev } from './helpers.js';

const ev = (id: string, k = 'k', i = 0): Ev => ({ id, k, i });
const ab = () => Pattern.begin<Ev, 'a'>('a').where(is('a')).followedBy('b').where(is('b'));

describe('the CEP operator in event time', () => {
  it('buffers events until the watermark passes them, then matches them in timestamp order', () => {
    const h = cepHarness(ab());
    h.processElement(ev('b', 'k', 1), 2000).processElement(ev('a', 'k', 0), 1000);
    expect(h.values).toEqual([]);
    h.processWatermark(1500);
    expect(h.values).toEqual([]);
    h.processWatermark(2000);
    expect(h.output).toEqual([{ value: 'a b', timestamp: 2000 }]);
  });

  it('sends events at or behind the watermark to the late-data output', () => {
    const h = cepHarness(ab());
    h.processWatermark(5000).processElement(ev('a'), 5000).processElement(ev('a'), 4000).processElement(ev('b', 'k', 1), 6000);
    h.endInput();
    expect(h.sideOutput(lateTag).map((e) => e.id)).toEqual(['a', 'a']);
    expect(h.values).toEqual([]);
  });

  it('keeps keys apart', () => {
    const h = cepHarness(ab());
    h.processElement(ev('a', 'x', 0), 1000).processElement(ev('b', 'y', 1), 2000).processElement(ev('b', 'x', 2), 3000);
    h.endInput();
    expect(h.values).toEqual(['a b']);
  });

  it('times out partial matches at first event + within, to the timed-out output', () => {
    const h = cepHarness(ab().within('5s'));
    h.processElement(ev('a', 'k', 0), 1000).processElement(ev('b', 'k', 1), 6000);
    h.processWatermark(7000);
    expect(h.values).toEqual([]); // b came at 6 s, the match had to end before 1 s + 5 s
    expect(h.sideOutput(timedOutTag).map((t) => [render(t.match), t.timeoutAt])).toEqual([['a', 6000]]);
    expect(h.sideOutput(timedOutTag)[0]!.match).toEqual({ a: [ev('a', 'k', 0)], b: [] });
  });

  it('times out on the watermark alone, with no further event of the key', () => {
    const h = cepHarness(ab().within('5s'));
    h.processElement(ev('a'), 1000).processWatermark(5999);
    expect(h.sideOutput(timedOutTag)).toEqual([]);
    h.processWatermark(6000);
    expect(h.sideOutput(timedOutTag).length).toBe(1);
    expect(h.keys('cep-nfa')).toEqual([]); // nothing left of the key
  });

  it('a trailing notFollowedBy completes the match when within runs out without the event', () => {
    const p = () => Pattern.begin<Ev, 'a'>('a').where(is('a')).notFollowedBy('x').where(is('x')).within('5s');
    const run = (xAt: number) => {
      const h = cepHarness(p());
      h.processElement(ev('a', 'k', 0), 0).processElement(ev('x', 'k', 1), xAt).endInput();
      return h.output;
    };
    expect(run(4999)).toEqual([]);
    expect(run(5000)).toEqual([{ value: 'a', timestamp: 5000 }]); // x came when the 5 s were over
  });

  it('keeps partial matches across a snapshot and restore', () => {
    const p = () => Pattern.begin<Ev, 'a'>('a').where(is('a')).times(2).followedBy('b').where(is('b')).within('1m');
    const first = cepHarness(p());
    first.processElement(ev('a', 'k', 0), 1000).processElement(ev('a', 'k', 1), 2000).processElement(ev('b', 'k', 3), 9000).processWatermark(2000);
    const snapshot = first.snapshot();
    const second = cepHarness(p());
    second.initializeState(snapshot);
    second.endInput();
    expect(second.values).toEqual(['a a b']);
  });

  it('a throwing condition fails with the step and the record (or dead-letters it)', () => {
    const p = Pattern.begin<Ev, 'a'>('a').where((e) => {
      if (e.id === 'boom') throw new Error('bad event');
      return true;
    });
    const h = cepHarness(p, { harness: { onError: 'dead-letter', uid: 'alerts' } });
    h.processElement(ev('boom'), 1000).processElement(ev('fine', 'k', 1), 2000).endInput();
    expect(h.values).toEqual(['fine']);
    expect(h.deadLetters.map((d) => [d.step, d.error.code, (d.record as Ev).id])).toEqual([['alerts', 'USER_FUNCTION_FAILED', 'boom']]);
  });

  it('refuses an event without timestamp in event time', () => {
    const h = cepHarness(ab());
    expect(() => h.processElement(ev('a'))).toThrow(/NO_TIMESTAMP|without timestamp/);
  });
});

describe('the CEP operator in processing time', () => {
  it('matches on arrival, by the clock, and times out when the clock passes within', () => {
    const h = cepHarness(ab().within('5s'), { processingTime: true, harness: { startTime: 1000 } });
    h.processElement(ev('a', 'k', 0));
    h.advanceProcessingTime(1000).processElement(ev('b', 'k', 1));
    expect(h.output).toEqual([{ value: 'a b', timestamp: 2000 }]);
    h.processElement(ev('a', 'k', 2));
    h.advanceProcessingTime(4999);
    expect(h.sideOutput(timedOutTag)).toEqual([]);
    h.advanceProcessingTime(1);
    expect(h.sideOutput(timedOutTag).map((t) => t.timeoutAt)).toEqual([7000]);
  });

  it('the monitoring pattern: A not followed by B within 5 s', () => {
    const p = Pattern.begin<Ev, 'a'>('a').where(is('a')).notFollowedBy('b').where(is('b')).within('5s');
    const h = cepHarness(p, { processingTime: true });
    h.processElement(ev('a', 'one', 0)).processElement(ev('a', 'two', 1));
    h.advanceProcessingTime(1000).processElement(ev('b', 'one', 2));
    h.advanceProcessingTime(4000);
    expect(h.output).toEqual([{ value: 'a', timestamp: 5000 }]); // key 'two' only
  });
});

describe('held matches at the end of input', () => {
  it('are emitted when the input ends (the partial match that held them can no longer complete)', () => {
    // a1 waits for a b forever (no within); c d completes but started later.
    const p = Pattern.begin<Ev, 'first'>('first', AfterMatchSkip.skipToNext()).where(is('a', 'c')).followedBy('second').where((e, ctx) =>
      ctx.eventsFor('first')[0]!.id[0] === 'a' ? is('b')(e) : is('d')(e),
    );
    const h = cepHarness(p);
    h.processElement(ev('a1', 'k', 0), 1000).processElement(ev('c', 'k', 1), 2000).processElement(ev('d', 'k', 2), 3000).processWatermark(4000);
    expect(h.values).toEqual([]);
    h.endInput();
    expect(h.values).toEqual(['c d']);
  });
});
