import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { timeWindow, windowsTouch, type Window } from '../../../src/window/window.js';
import { dynamicSession, dynamicSessionProcessingTime, mergeTimeWindows, session, sessionProcessingTime } from '../../../src/window/assigners/session.js';

const ctx = { currentProcessingTime: () => 0 };
const w = (start: number, end: number): Window => timeWindow(start, end);
const plain = (groups: ReturnType<typeof mergeTimeWindows>) =>
  groups.map((g) => ({ result: [g.result.start, g.result.end], merged: g.merged.map((m) => [m.start, m.end]) }));

function errorOf(f: () => unknown): SluiceError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error('expected an error');
}

describe('session windows', () => {
  it('gives each record [timestamp, timestamp + gap), negative timestamps included', () => {
    const a = session(10);
    expect(a.assignWindows(null, 5, ctx)).toEqual([w(5, 15)]);
    expect(a.assignWindows(null, -5, ctx)).toEqual([w(-5, 5)]);
    expect(session('1m').gap).toBe(60_000);
    expect(a.merging).toBe(true);
    expect(a.isEventTime).toBe(true);
    expect(a.slicing).toBeUndefined();
    expect(a.defaultTrigger().kind).toBe('event-time');
    expect(a.describe()).toBe('session gap 10ms');
    const p = sessionProcessingTime(10);
    expect(p.isEventTime).toBe(false);
    expect(p.defaultTrigger().kind).toBe('processing-time');
    expect(Object.isFrozen(a) && Object.isFrozen(p)).toBe(true);
  });

  it('rejects a gap that is not positive', () => {
    expect(errorOf(() => session(0)).code).toBe('INVALID_DURATION');
    expect(errorOf(() => sessionProcessingTime(-1)).code).toBe('INVALID_DURATION');
  });

  it('merges overlapping windows', () => {
    expect(plain(mergeTimeWindows([w(0, 10), w(5, 15)]))).toEqual([{ result: [0, 15], merged: [[0, 10], [5, 15]] }]);
    expect(plain(mergeTimeWindows([w(0, 100), w(10, 20)]))).toEqual([{ result: [0, 100], merged: [[0, 100], [10, 20]] }]);
  });

  it('merges windows that only touch', () => {
    expect(plain(mergeTimeWindows([w(0, 10), w(10, 20)]))).toEqual([{ result: [0, 20], merged: [[0, 10], [10, 20]] }]);
  });

  it('leaves disjoint windows and single windows alone', () => {
    expect(mergeTimeWindows([w(0, 10), w(11, 20)])).toEqual([]);
    expect(mergeTimeWindows([w(0, 10)])).toEqual([]);
    expect(mergeTimeWindows([])).toEqual([]);
  });

  it('merges chains, in several groups, from unsorted input', () => {
    const input = [w(45, 55), w(17, 27), w(0, 10), w(40, 50), w(8, 18), w(60, 70)];
    expect(plain(mergeTimeWindows(input))).toEqual([
      { result: [0, 27], merged: [[0, 10], [8, 18], [17, 27]] },
      { result: [40, 55], merged: [[40, 50], [45, 55]] },
    ]);
  });

  it('returns the given window objects, and counts equal windows once', () => {
    const a = w(0, 10);
    const b = w(5, 15);
    const [g] = mergeTimeWindows([b, a]);
    expect(g!.merged[0]).toBe(a);
    expect(g!.merged[1]).toBe(b);
    expect(mergeTimeWindows([w(0, 10), w(0, 10)])).toEqual([]);
    expect(plain(mergeTimeWindows([w(0, 10), w(0, 10), w(5, 12)]))).toEqual([{ result: [0, 12], merged: [[0, 10], [5, 12]] }]);
    expect(session(10).mergeWindows([w(0, 10), w(10, 20)])).toHaveLength(1);
  });

  it('merges into windows that each cover exactly their union and never touch (property, against a naive fixpoint)', () => {
    const window = fc.record({ start: fc.integer({ min: -200, max: 200 }), len: fc.integer({ min: 1, max: 40 }) }).map(({ start, len }) => w(start, start + len));
    fc.assert(
      fc.property(fc.array(window, { maxLength: 30 }), (windows) => {
        const groups = mergeTimeWindows(windows);
        for (const g of groups) {
          expect(g.merged.length).toBeGreaterThanOrEqual(2);
          expect(new Set(g.merged.map((m) => `${m.start},${m.end}`)).size).toBe(g.merged.length);
          // The result is the cover of its windows, and their union has no hole.
          expect(g.result.start).toBe(Math.min(...g.merged.map((m) => m.start)));
          expect(g.result.end).toBe(Math.max(...g.merged.map((m) => m.end)));
          const sorted = [...g.merged].sort((a, b) => a.start - b.start);
          let reach = sorted[0]!.end;
          for (const m of sorted.slice(1)) {
            expect(m.start).toBeLessThanOrEqual(reach);
            reach = Math.max(reach, m.end);
          }
        }
        for (let i = 0; i < groups.length; i++) {
          for (let j = i + 1; j < groups.length; j++) expect(windowsTouch(groups[i]!.result, groups[j]!.result)).toBe(false);
        }
        // Naive reference: merge any two touching covers until none touch.
        let covers = windows.map((x) => ({ start: x.start, end: x.end, members: new Set([`${x.start},${x.end}`]) }));
        for (let changed = true; changed; ) {
          changed = false;
          outer: for (let i = 0; i < covers.length; i++) {
            for (let j = i + 1; j < covers.length; j++) {
              if (windowsTouch(covers[i]!, covers[j]!)) {
                const a = covers[i]!;
                const b = covers[j]!;
                covers = covers.filter((_, k) => k !== i && k !== j);
                covers.push({ start: Math.min(a.start, b.start), end: Math.max(a.end, b.end), members: new Set([...a.members, ...b.members]) });
                changed = true;
                break outer;
              }
            }
          }
        }
        const expected = covers
          .filter((c) => c.members.size >= 2)
          .map((c) => `${c.start},${c.end}:${[...c.members].sort().join('|')}`)
          .sort();
        const actual = groups.map((g) => `${g.result.start},${g.result.end}:${g.merged.map((m) => `${m.start},${m.end}`).sort().join('|')}`).sort();
        expect(actual).toEqual(expected);
      }),
    );
  });
});

describe('dynamic session windows', () => {
  interface Click {
    premium: boolean;
  }
  it('takes the gap from each record', () => {
    const a = dynamicSession((c: Click) => (c.premium ? 100 : 10));
    expect(a.assignWindows({ premium: true }, 5, ctx)).toEqual([w(5, 105)]);
    expect(a.assignWindows({ premium: false }, -5, ctx)).toEqual([w(-5, 5)]);
    expect(a.merging).toBe(true);
    expect(a.isEventTime).toBe(true);
    expect(a.mergeWindows([w(5, 105), w(-5, 5)])).toHaveLength(1);
    expect(dynamicSessionProcessingTime((c: Click) => (c.premium ? 100 : 10)).isEventTime).toBe(false);
  });

  it('fails a record whose gap is not a finite number above zero, naming the value and the record', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = errorOf(() => dynamicSession(function gapOfClick(_c: { id: number }) { return bad; }).assignWindows({ id: 7 }, 0, ctx));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain(`returned ${String(bad)}`);
      expect(e.message).toContain('gapOfClick');
      expect(e.message).toContain('{"id":7}');
    }
    const e = errorOf(() => dynamicSession(() => '5m' as unknown as number).assignWindows(null, 0, ctx));
    expect(e.message).toContain('returned "5m"');
  });

  it('rejects a gap extractor that is not a function when built', () => {
    expect(errorOf(() => dynamicSession(10 as unknown as (x: unknown) => number)).code).toBe('INVALID_ARGUMENT');
  });
});
