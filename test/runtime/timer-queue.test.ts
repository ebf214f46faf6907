import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../src/runtime/timer-queue.js';
import type { Key, Namespace } from '../../src/state/types.js';

type Fired = [Key, number, Namespace | undefined];

function drain(q: TimerQueue, time: number): Fired[] {
  const fired: Fired[] = [];
  q.advanceTo(time, (k, t, ns) => fired.push([k, t, ns]));
  return fired;
}

describe('TimerQueue', () => {
  it('keeps one timer per (key, timestamp)', () => {
    const q = new TimerQueue();
    q.register('a', 10);
    q.register('a', 10);
    q.register('b', 10);
    q.register('a', 20);
    expect(q.size).toBe(3);
    expect(drain(q, 100)).toEqual([
      ['a', 10, undefined],
      ['b', 10, undefined],
      ['a', 20, undefined],
    ]);
    expect(q.size).toBe(0);
  });

  it('fires in timestamp order whatever the registration order, and only what is due', () => {
    const q = new TimerQueue();
    for (const t of [50, 10, 40, 30, 20]) q.register(`k${t}`, t);
    expect(q.peek()).toBe(10);
    expect(drain(q, 30).map((f) => f[1])).toEqual([10, 20, 30]);
    expect(q.size).toBe(2);
    expect(q.peek()).toBe(40);
    expect(drain(q, 39)).toEqual([]);
    expect(drain(q, Number.POSITIVE_INFINITY).map((f) => f[1])).toEqual([40, 50]);
    expect(q.peek()).toBeUndefined();
  });

  it('fires timers of one timestamp in registration order', () => {
    const q = new TimerQueue();
    q.register('z', 5);
    q.register('a', 5);
    q.register('m', 5);
    q.register(3, 5);
    q.register('a', 5); // duplicate: keeps its first place
    expect(drain(q, 5).map((f) => f[0])).toEqual(['z', 'a', 'm', 3]);
  });

  it('deletes a timer, and forgets a timestamp whose timers are all deleted', () => {
    const q = new TimerQueue();
    q.register('a', 10);
    q.register('b', 10);
    q.register('a', 20);
    q.delete('a', 10);
    q.delete('a', 99); // not there: no effect
    q.delete('c', 10); // not there: no effect
    expect(q.size).toBe(2);
    q.delete('b', 10);
    expect(q.peek()).toBe(20);
    expect(q.timestampsOf('a')).toEqual([20]);
    expect(drain(q, 100)).toEqual([['a', 20, undefined]]);
  });

  it('a deleted then re-registered timer fires once', () => {
    const q = new TimerQueue();
    q.register('a', 10);
    q.delete('a', 10);
    q.register('a', 10);
    expect(q.size).toBe(1);
    expect(drain(q, 10)).toEqual([['a', 10, undefined]]);
  });

  it('timers registered while firing fire in the same call when due, later ones wait', () => {
    const q = new TimerQueue();
    q.register('a', 10);
    const fired: Fired[] = [];
    q.advanceTo(25, (k, t, ns) => {
      fired.push([k, t, ns]);
      if (k === 'a' && t === 10) {
        q.register('b', 10); // same timestamp, already being fired
        q.register('c', 15); // due
        q.register('d', 5); // in the past: due at once
        q.register('e', 30); // not due
      }
    });
    expect(fired.map((f) => `${String(f[0])}@${f[1]}`)).toEqual(['a@10', 'd@5', 'b@10', 'c@15']);
    expect(q.size).toBe(1);
    expect(q.entries()).toEqual([{ key: 'e', timestamp: 30 }]);
  });

  it('a timer deleted by an earlier one in the same firing does not fire', () => {
    const q = new TimerQueue();
    q.register('a', 10);
    q.register('b', 20);
    const fired: Fired[] = [];
    q.advanceTo(30, (k, t, ns) => {
      fired.push([k, t, ns]);
      if (k === 'a') q.delete('b', 20);
    });
    expect(fired).toEqual([['a', 10, undefined]]);
    expect(q.size).toBe(0);
  });

  it('keeps namespaces apart: same key and timestamp in two namespaces are two timers', () => {
    const q = new TimerQueue();
    q.register('k', 10);
    q.register('k', 10, 'w1');
    q.register('k', 10, 'w2');
    q.register('k', 10, 'w1'); // duplicate
    q.register('k', 10); // duplicate plain
    expect(q.size).toBe(3);
    expect(q.timestampsOf('k')).toEqual([10]);
    expect(q.timestampsOf('k', 'w1')).toEqual([10]);
    expect(q.timestampsOf('k', 'w3')).toEqual([]);
    q.delete('k', 10, 'w2');
    q.delete('k', 10, 'w3'); // not there
    expect(q.size).toBe(2);
    expect(drain(q, 10)).toEqual([
      ['k', 10, undefined],
      ['k', 10, 'w1'],
    ]);
  });

  it('deleting the plain timer leaves the namespaced one', () => {
    const q = new TimerQueue();
    q.register('k', 10, 7);
    q.register('k', 10);
    q.delete('k', 10);
    expect(q.size).toBe(1);
    expect(drain(q, 10)).toEqual([['k', 10, 7]]);
  });

  it('a namespaced delete does not remove a plain timer', () => {
    const q = new TimerQueue();
    q.register('k', 10);
    q.delete('k', 10, 'w');
    expect(q.size).toBe(1);
    expect(drain(q, 10)).toEqual([['k', 10, undefined]]);
  });

  it('lists entries in timestamp order', () => {
    const q = new TimerQueue();
    q.register('b', 30);
    q.register('a', 10, 'w');
    q.register(1n, 20);
    expect(q.entries()).toEqual([
      { key: 'a', timestamp: 10, namespace: 'w' },
      { key: 1n, timestamp: 20 },
      { key: 'b', timestamp: 30 },
    ]);
  });

  it('fires in order over many random registrations', () => {
    const q = new TimerQueue();
    let x = 12345;
    const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const expected = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const k = `k${Math.floor(rand() * 20)}`;
      const t = Math.floor(rand() * 300);
      q.register(k, t);
      expected.add(`${k}@${t}`);
    }
    const fired = drain(q, 1000);
    expect(fired.length).toBe(expected.size);
    for (let i = 1; i < fired.length; i++) expect(fired[i]![1]).toBeGreaterThanOrEqual(fired[i - 1]![1]);
    expect(new Set(fired.map((f) => `${String(f[0])}@${f[1]}`))).toEqual(expected);
  });
});
