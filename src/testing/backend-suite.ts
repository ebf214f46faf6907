/**
 * The shared test suite every {@link KeyedStateBackend} must pass (as Hono runs one suite
 * against every router). A backend's test file calls it once:
 *
 * @example
 * describeStateBackend('memory', (clock) => new MemoryStateBackend({ clock }));
 *
 * The factory gets a fresh {@link ManualClock} (starting at 1000) per test and must return
 * a fresh, empty backend with the default max parallelism on that clock.
 */
import { deserialize, serialize } from 'node:v8';
import { SluiceError } from '../errors/index.js';
import { ManualClock } from '../time/clock.js';
import { vitest } from './vitest.js';
import { aggregatingState, listState, mapState, reducingState, valueState } from '../state/descriptors.js';
import { keyGroupOf } from '../state/key-groups.js';
import { entriesOf } from '../state/snapshot-format.js';
import type { AggregateFunction, Key, KeyedStateBackend, KeyedStateSnapshot, StateTtl } from '../state/types.js';

const average: AggregateFunction<number, { sum: number; n: number }, number> = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, n: acc.n + 1 }),
  getResult: (acc) => acc.sum / acc.n,
  merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

const ttl = (ms: number, updateOn?: StateTtl['updateOn']): StateTtl => (updateOn ? { ttl: ms, updateOn } : { ttl: ms });

function expectCode(f: () => unknown, code: string): void {
  const { expect } = vitest();
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe(code);
    return;
  }
  throw new Error(`expected a SluiceError ${code}, nothing was thrown`);
}

/**
 * Registers the shared keyed-state backend tests under `describe(name)`.
 *
 * @example
 * describeStateBackend('memory', (clock) => new MemoryStateBackend({ clock }));
 */
export function describeStateBackend(name: string, create: (clock: ManualClock) => KeyedStateBackend): void {
  const { describe, expect, it } = vitest();
  const setup = (): { clock: ManualClock; b: KeyedStateBackend } => {
    const clock = new ManualClock(1000);
    return { clock, b: create(clock) };
  };

  describe(`keyed state backend: ${name}`, () => {
    describe('keys and declaration', () => {
      it('throws STATE_OUTSIDE_KEY when state is used before a key is set', () => {
        const { b } = setup();
        const v = b.getState(valueState<number>('v'));
        const l = b.getState(listState<number>('l'));
        const m = b.getState(mapState<string, number>('m'));
        expectCode(() => v.value(), 'STATE_OUTSIDE_KEY');
        expectCode(() => v.update(1), 'STATE_OUTSIDE_KEY');
        expectCode(() => l.add(1), 'STATE_OUTSIDE_KEY');
        expectCode(() => m.put('a', 1), 'STATE_OUTSIDE_KEY');
        expectCode(() => b.getCurrentKey(), 'STATE_OUTSIDE_KEY');
        expectCode(() => b.namespaces('v'), 'STATE_OUTSIDE_KEY');
      });

      it('returns the same state object for the same name', () => {
        const { b } = setup();
        expect(b.getState(valueState<number>('v'))).toBe(b.getState(valueState<number>('v')));
      });

      it('refuses the same name with another kind or TTL', () => {
        const { b } = setup();
        b.getState(valueState<number>('s'));
        expectCode(() => b.getState(listState<number>('s')), 'STATE_ALREADY_DECLARED');
        expectCode(() => b.getState(valueState<number>('s', { ttl: ttl(10) })), 'STATE_ALREADY_DECLARED');
      });

      it('reports the current key', () => {
        const { b } = setup();
        b.setCurrentKey(7n);
        expect(b.getCurrentKey()).toBe(7n);
      });
    });

    describe('state kinds', () => {
      it('value state: update, read, default, clear', () => {
        const { b } = setup();
        const v = b.getState(valueState<number>('v', { defaultValue: 0 }));
        const w = b.getState(valueState<string>('w'));
        b.setCurrentKey('k');
        expect(v.value()).toBe(0);
        expect(w.value()).toBeUndefined();
        v.update(5);
        w.update('x');
        expect(v.value()).toBe(5);
        expect(w.value()).toBe('x');
        v.clear();
        expect(v.value()).toBe(0);
        w.update(undefined as unknown as string);
        expect(w.value()).toBeUndefined();
        expect(b.keys('w')).toEqual([]);
      });

      it('list state: add, addAll, update, get returns a copy, clear', () => {
        const { b } = setup();
        const l = b.getState(listState<number>('l'));
        b.setCurrentKey('k');
        expect(l.get()).toEqual([]);
        l.add(1);
        l.addAll([2, 3]);
        const copy = l.get();
        copy.push(99);
        expect(l.get()).toEqual([1, 2, 3]);
        l.update([7]);
        expect(l.get()).toEqual([7]);
        const given = [8, 9];
        l.update(given);
        given.push(10);
        expect(l.get()).toEqual([8, 9]);
        l.clear();
        expect(l.get()).toEqual([]);
        expect(b.keys('l')).toEqual([]);
      });

      it('map state: put, get, contains, remove, entries, keys, values, isEmpty, clear', () => {
        const { b } = setup();
        const m = b.getState(mapState<string, number>('m'));
        b.setCurrentKey('k');
        expect(m.isEmpty()).toBe(true);
        m.put('a', 1);
        m.putAll([
          ['b', 2],
          ['c', 3],
        ]);
        expect(m.get('a')).toBe(1);
        expect(m.get('z')).toBeUndefined();
        expect(m.contains('b')).toBe(true);
        expect(m.contains('z')).toBe(false);
        m.remove('b');
        expect(m.entries().sort()).toEqual([
          ['a', 1],
          ['c', 3],
        ]);
        expect(m.keys().sort()).toEqual(['a', 'c']);
        expect(m.values().sort()).toEqual([1, 3]);
        expect(m.isEmpty()).toBe(false);
        m.clear();
        expect(m.isEmpty()).toBe(true);
        expect(m.entries()).toEqual([]);
        m.put('x', 1);
        m.remove('x');
        expect(b.keys('m')).toEqual([]);
      });

      it('reducing state folds added values', () => {
        const { b } = setup();
        const r = b.getState(reducingState<number>('r', (x, y) => x + y));
        b.setCurrentKey('k');
        expect(r.get()).toBeUndefined();
        r.add(2);
        r.add(3);
        expect(r.get()).toBe(5);
        r.clear();
        expect(r.get()).toBeUndefined();
      });

      it('aggregating state feeds the accumulator and reads the result', () => {
        const { b } = setup();
        const a = b.getState(aggregatingState('a', average));
        b.setCurrentKey('k');
        expect(a.get()).toBeUndefined();
        a.add(2);
        a.add(4);
        expect(a.get()).toBe(3);
        a.clear();
        expect(a.get()).toBeUndefined();
      });
    });

    describe('isolation', () => {
      it('keeps each key apart, and 1, "1" and 1n are different keys', () => {
        const { b } = setup();
        const v = b.getState(valueState<string>('v'));
        const m = b.getState(mapState<string, number>('m'));
        for (const key of [1, '1', 1n, 'a'] as Key[]) {
          b.setCurrentKey(key);
          v.update(`${typeof key}:${String(key)}`);
          m.put('x', Number(key === 'a' ? 0 : key));
        }
        for (const key of [1, '1', 1n, 'a'] as Key[]) {
          b.setCurrentKey(key);
          expect(v.value()).toBe(`${typeof key}:${String(key)}`);
        }
        b.setCurrentKey('unseen');
        expect(v.value()).toBeUndefined();
        expect(m.entries()).toEqual([]);
        expect(new Set(b.keys('v'))).toEqual(new Set([1, '1', 1n, 'a']));
        expect(b.keys('nope')).toEqual([]);
      });

      it('keeps states of different names apart', () => {
        const { b } = setup();
        const x = b.getState(valueState<number>('x'));
        const y = b.getState(valueState<number>('y'));
        b.setCurrentKey('k');
        x.update(1);
        expect(y.value()).toBeUndefined();
        expect(b.size()).toBe(1);
      });
    });

    describe('namespaces', () => {
      it('keeps namespaces apart from each other and from the plain state', () => {
        const { b } = setup();
        const l = b.getState(listState<number>('l'));
        b.setCurrentKey('k');
        l.add(0);
        b.setCurrentNamespace('w1');
        l.add(1);
        b.setCurrentNamespace(2);
        l.add(2);
        expect(l.get()).toEqual([2]);
        b.setCurrentNamespace('w1');
        expect(l.get()).toEqual([1]);
        b.setCurrentNamespace(undefined);
        expect(l.get()).toEqual([0]);
        expect(new Set(b.namespaces('l'))).toEqual(new Set(['w1', 2]));
        b.setCurrentKey('other');
        expect(b.namespaces('l')).toEqual([]);
        b.setCurrentNamespace('w1');
        expect(l.get()).toEqual([]);
      });

      it('lists a key that has only namespaced state, and forgets a cleared namespace', () => {
        const { b } = setup();
        const v = b.getState(valueState<number>('v'));
        b.setCurrentKey('k');
        b.setCurrentNamespace('w');
        v.update(1);
        expect(b.keys('v')).toEqual(['k']);
        expect(b.size()).toBe(1);
        v.clear();
        expect(b.namespaces('v')).toEqual([]);
        expect(b.keys('v')).toEqual([]);
        expect(b.size()).toBe(0);
      });

      it('every state kind works in a namespace', () => {
        const { b } = setup();
        const v = b.getState(valueState<number>('v'));
        const m = b.getState(mapState<string, number>('m'));
        const r = b.getState(reducingState<number>('r', Math.max));
        const a = b.getState(aggregatingState('a', average));
        b.setCurrentKey('k');
        b.setCurrentNamespace(10);
        v.update(1);
        m.put('a', 1);
        r.add(3);
        r.add(1);
        a.add(1);
        a.add(3);
        b.setCurrentNamespace(20);
        expect([v.value(), m.get('a'), r.get(), a.get()]).toEqual([undefined, undefined, undefined, undefined]);
        b.setCurrentNamespace(10);
        expect([v.value(), m.get('a'), r.get(), a.get()]).toEqual([1, 1, 3, 2]);
      });
    });

    describe('TTL', () => {
      it('expires a value after the TTL since the last write (create-and-write)', () => {
        const { b, clock } = setup();
        const v = b.getState(valueState<number>('v', { ttl: ttl(100), defaultValue: -1 }));
        b.setCurrentKey('k');
        v.update(1);
        clock.advance(60);
        expect(v.value()).toBe(1); // a read does not restart the clock
        clock.advance(39);
        expect(v.value()).toBe(1);
        v.update(2); // a write does
        clock.advance(99);
        expect(v.value()).toBe(2);
        clock.advance(1);
        expect(v.value()).toBe(-1);
        expect(b.keys('v')).toEqual([]);
        expect(b.size()).toBe(0);
      });

      it('restarts the TTL on reads with read-and-write', () => {
        const { b, clock } = setup();
        const v = b.getState(valueState<number>('v', { ttl: ttl(100, 'read-and-write') }));
        b.setCurrentKey('k');
        v.update(1);
        for (let i = 0; i < 5; i++) {
          clock.advance(90);
          expect(v.value()).toBe(1);
        }
        clock.advance(100);
        expect(v.value()).toBeUndefined();
      });

      it('never returns an expired value from keys(), namespaces(), size() or a snapshot', () => {
        const { b, clock } = setup();
        const v = b.getState(valueState<number>('v', { ttl: ttl(50) }));
        b.setCurrentKey('a');
        v.update(1);
        b.setCurrentNamespace('w');
        v.update(2);
        clock.advance(30);
        b.setCurrentKey('b');
        b.setCurrentNamespace(undefined);
        v.update(3);
        clock.advance(20); // 'a' expired, 'b' alive
        expect(b.keys('v')).toEqual(['b']);
        b.setCurrentKey('a');
        expect(b.namespaces('v')).toEqual([]);
        expect(b.size()).toBe(1);
        expect(entriesOf(b.snapshot().states['v']!, b.maxParallelism).map((e) => e.key)).toEqual(['b']);
      });

      it('list state expires as a whole, restarted by add', () => {
        const { b, clock } = setup();
        const l = b.getState(listState<number>('l', { ttl: ttl(100) }));
        b.setCurrentKey('k');
        l.add(1);
        clock.advance(80);
        l.add(2);
        clock.advance(80);
        expect(l.get()).toEqual([1, 2]);
        clock.advance(20);
        expect(l.get()).toEqual([]);
        l.add(3);
        expect(l.get()).toEqual([3]);
      });

      it('map state expires per entry, in get, contains, entries, keys, values and isEmpty', () => {
        const { b, clock } = setup();
        const m = b.getState(mapState<string, number>('m', { ttl: ttl(100) }));
        b.setCurrentKey('k');
        m.put('old', 1);
        clock.advance(50);
        m.put('new', 2);
        clock.advance(50); // 'old' expired
        expect(m.get('old')).toBeUndefined();
        expect(m.contains('old')).toBe(false);
        expect(m.entries()).toEqual([['new', 2]]);
        expect(m.keys()).toEqual(['new']);
        expect(m.values()).toEqual([2]);
        expect(m.isEmpty()).toBe(false);
        clock.advance(50);
        expect(m.isEmpty()).toBe(true);
        expect(m.entries()).toEqual([]);
        expect(b.keys('m')).toEqual([]);
      });

      it('map state with read-and-write refreshes the entries read', () => {
        const { b, clock } = setup();
        const m = b.getState(mapState<string, number>('m', { ttl: ttl(100, 'read-and-write') }));
        b.setCurrentKey('k');
        m.put('a', 1);
        m.put('b', 2);
        clock.advance(90);
        expect(m.get('a')).toBe(1);
        clock.advance(90);
        expect(m.entries()).toEqual([['a', 1]]);
      });

      it('reducing and aggregating state expire and restart on add', () => {
        const { b, clock } = setup();
        const r = b.getState(reducingState<number>('r', (x, y) => x + y, { ttl: ttl(100) }));
        const a = b.getState(aggregatingState('a', average, { ttl: ttl(100, 'read-and-write') }));
        b.setCurrentKey('k');
        r.add(1);
        a.add(1);
        clock.advance(99);
        r.add(1);
        expect(a.get()).toBe(1);
        clock.advance(99);
        expect(r.get()).toBe(2);
        expect(a.get()).toBe(1);
        clock.advance(100);
        expect(r.get()).toBeUndefined();
        expect(a.get()).toBeUndefined();
        r.add(5);
        expect(r.get()).toBe(5);
      });

      it('counts only live entries after many keys expire untouched', () => {
        const { b, clock } = setup();
        const v = b.getState(valueState<number>('v', { ttl: ttl(10) }));
        for (let i = 0; i < 200; i++) {
          b.setCurrentKey(`old-${i}`);
          v.update(i);
        }
        clock.advance(10);
        // Touch other keys only; the old ones must go without ever being read.
        for (let i = 0; i < 400; i++) {
          b.setCurrentKey(`new-${i % 5}`);
          v.update(i);
        }
        expect(b.size()).toBe(5);
        expect(b.keys('v').length).toBe(5);
      });
    });

    describe('snapshots', () => {
      const fill = (b: KeyedStateBackend, keys: Key[]): void => {
        const v = b.getState(valueState<number>('v'));
        const l = b.getState(listState<string>('l'));
        const m = b.getState(mapState<string, { n: number }>('m'));
        const r = b.getState(reducingState<number>('r', (x, y) => x + y));
        const a = b.getState(aggregatingState('a', average));
        const t = b.getState(valueState<string>('t', { ttl: ttl(100) }));
        for (const key of keys) {
          b.setCurrentKey(key);
          b.setCurrentNamespace(undefined);
          v.update(Number(String(key).replace(/\D/g, '') || 0));
          l.addAll(['x', String(key)]);
          m.put('a', { n: 1 });
          r.add(2);
          a.add(4);
          t.update(`t-${String(key)}`);
          b.setCurrentNamespace('w');
          l.add('in-w');
        }
        b.setCurrentNamespace(undefined);
      };
      const read = (b: KeyedStateBackend, key: Key): unknown => {
        b.setCurrentKey(key);
        b.setCurrentNamespace(undefined);
        const out = {
          v: b.getState(valueState<number>('v')).value(),
          l: b.getState(listState<string>('l')).get(),
          m: b.getState(mapState<string, { n: number }>('m')).entries(),
          r: b.getState(reducingState<number>('r', (x, y) => x + y)).get(),
          a: b.getState(aggregatingState('a', average)).get(),
          t: b.getState(valueState<string>('t', { ttl: ttl(100) })).value(),
          w: (b.setCurrentNamespace('w'), b.getState(listState<string>('l')).get()),
        };
        b.setCurrentNamespace(undefined);
        return out;
      };
      const keys: Key[] = ['k1', 2, 3n, 'k4', 'k5', 6, 'k7', 'k8'];

      it('round-trips every state kind, declared before or after restore', () => {
        const { b, clock } = setup();
        fill(b, keys);
        const snap = b.snapshot();
        expect(JSON.parse(JSON.stringify(snap, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)))).toBeTruthy();
        for (const declareFirst of [true, false]) {
          const c = create(clock);
          if (declareFirst) read(c, 'none');
          c.restore(snap);
          for (const key of keys) expect(read(c, key)).toEqual(read(b, key));
          expect(c.size()).toBe(b.size());
        }
      });

      it('keeps TTL expiry times across a snapshot', () => {
        const { b, clock } = setup();
        fill(b, ['k']);
        clock.advance(60);
        const c = create(clock);
        c.restore(b.snapshot());
        const t = c.getState(valueState<string>('t', { ttl: ttl(100) }));
        c.setCurrentKey('k');
        clock.advance(39);
        expect(t.value()).toBe('t-k');
        clock.advance(1);
        expect(t.value()).toBeUndefined();
      });

      it('an untouched restored state survives into the next snapshot', () => {
        const { b, clock } = setup();
        fill(b, keys);
        const snap = b.snapshot();
        const c = create(clock);
        c.restore(snap);
        expect(c.size()).toBe(b.size());
        expect(c.keys('v').length).toBe(keys.length);
        expect(c.snapshot()).toEqual(snap);
      });

      it('restores only the key groups asked for', () => {
        const { b, clock } = setup();
        const many: Key[] = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? i : i % 3 === 1 ? `k${i}` : BigInt(i)));
        fill(b, many);
        const snap = b.snapshot();
        const max = b.maxParallelism;
        const lower = create(clock);
        const upper = create(clock);
        lower.restore(snap, { from: 0, to: 63 });
        upper.restore(snap, { from: 64, to: max - 1 });
        const inLower = many.filter((k) => keyGroupOf(k, max) <= 63);
        expect(inLower.length).toBeGreaterThan(0);
        expect(inLower.length).toBeLessThan(many.length);
        expect(new Set(lower.keys('v'))).toEqual(new Set(inLower));
        expect(new Set(upper.keys('v'))).toEqual(new Set(many.filter((k) => keyGroupOf(k, max) > 63)));
        for (const k of many) {
          expect(read(keyGroupOf(k, max) <= 63 ? lower : upper, k)).toEqual(read(b, k));
        }
        for (const e of entriesOf(snap.states['v']!, max)) expect(e.keyGroup).toBe(keyGroupOf(e.key, max));
        // Two halves restored into one backend give the whole again.
        const whole = create(clock);
        whole.restore(snap, { from: 0, to: 63 });
        whole.restore(snap, { from: 64, to: max - 1 });
        expect(whole.size()).toBe(b.size());
      });

      it('a snapshot does not change when the state changes afterwards, nor when restored state changes', () => {
        const { b, clock } = setup();
        fill(b, ['k']);
        const snap = b.snapshot();
        const before = JSON.stringify(snap);
        b.setCurrentKey('k');
        b.getState(listState<string>('l')).add('later');
        b.getState(mapState<string, { n: number }>('m')).get('a')!.n = 42;
        b.getState(valueState<number>('v')).update(1234);
        const c = create(clock);
        c.restore(snap);
        c.setCurrentKey('k');
        c.getState(listState<string>('l')).add('after-restore');
        c.getState(mapState<string, { n: number }>('m')).get('a')!.n = 43;
        expect(JSON.stringify(snap)).toBe(before);
      });

      it('refuses a snapshot whose kinds or max parallelism do not match', () => {
        const { b, clock } = setup();
        fill(b, ['k']);
        const snap = b.snapshot();
        const c = create(clock);
        c.getState(valueState<number>('l'));
        expectCode(() => c.restore(snap), 'STATE_INCOMPATIBLE');
        const d = create(clock);
        expectCode(() => d.restore({ ...snap, maxParallelism: snap.maxParallelism * 2 }), 'STATE_INCOMPATIBLE');
        const e = create(clock);
        e.restore(snap);
        expectCode(() => e.getState(valueState<number>('l')), 'STATE_INCOMPATIBLE');
      });

      it('round-trips numeric, string, bigint and mixed keys and values, also through V8 serialization (as checkpoints store them)', () => {
        const { b, clock } = setup();
        const nums = b.getState(valueState<number>('nums'));
        const strs = b.getState(valueState<string>('strs'));
        const mixed = b.getState(valueState<unknown>('mixed'));
        const mixedValues: unknown[] = [1.5, 'two', { three: [3] }, null, 0.25, true];
        const mixedKeys: Key[] = [];
        for (let i = 0; i < 2000; i++) {
          b.setCurrentKey(i);
          nums.update(i * 0.5);
          b.setCurrentKey(`s${i}`);
          strs.update(`v${i}`);
          const key: Key = i % 3 === 0 ? i : i % 3 === 1 ? `m${i}` : BigInt(i);
          mixedKeys.push(key);
          b.setCurrentKey(key);
          mixed.update(mixedValues[i % mixedValues.length]);
        }
        const snap = deserialize(serialize(b.snapshot())) as KeyedStateSnapshot;
        const max = b.maxParallelism;
        const whole = create(clock);
        const halves = create(clock);
        whole.restore(snap);
        halves.restore(snap, { from: 0, to: 63 });
        halves.restore(snap, { from: 64, to: max - 1 });
        for (const c of [whole, halves]) {
          expect(c.size()).toBe(6000);
          const [n, s, m] = [c.getState(valueState<number>('nums')), c.getState(valueState<string>('strs')), c.getState(valueState<unknown>('mixed'))];
          for (let i = 0; i < 2000; i++) {
            c.setCurrentKey(i);
            expect(n.value()).toBe(i * 0.5);
            c.setCurrentKey(`s${i}`);
            expect(s.value()).toBe(`v${i}`);
            c.setCurrentKey(mixedKeys[i]!);
            expect(m.value()).toEqual(mixedValues[i % mixedValues.length]);
          }
        }
        // And once more from the restored backend: nothing lost in the second generation.
        const again = create(clock);
        again.restore(deserialize(serialize(whole.snapshot())) as KeyedStateSnapshot);
        expect(again.size()).toBe(6000);
      });

      it('numeric namespaces (window slices) and mixed ones round-trip, filtered by key group', () => {
        const { b, clock } = setup();
        const sum = b.getState(reducingState<number>('sum', (x, y) => x + y));
        const tags = b.getState(listState<string>('tags'));
        const keysUsed = Array.from({ length: 50 }, (_, i) => i);
        for (const key of keysUsed) {
          b.setCurrentKey(key);
          for (const slice of [1000, 2000]) {
            b.setCurrentNamespace(slice);
            sum.add(key + slice);
          }
          b.setCurrentNamespace(undefined);
          tags.add('plain');
          b.setCurrentNamespace('w');
          tags.add('in-w');
        }
        b.setCurrentNamespace(undefined);
        const snap = deserialize(serialize(b.snapshot())) as KeyedStateSnapshot;
        const lower = create(clock);
        lower.restore(snap, { from: 0, to: 63 });
        const inLower = keysUsed.filter((k) => keyGroupOf(k, b.maxParallelism) <= 63);
        expect(new Set(lower.keys('sum'))).toEqual(new Set(inLower));
        const s = lower.getState(reducingState<number>('sum', (x, y) => x + y));
        const t = lower.getState(listState<string>('tags'));
        for (const key of inLower) {
          lower.setCurrentKey(key);
          expect(lower.namespaces('sum').sort()).toEqual([1000, 2000]);
          lower.setCurrentNamespace(2000);
          expect(s.get()).toBe(key + 2000);
          lower.setCurrentNamespace(undefined);
          expect(t.get()).toEqual(['plain']);
          lower.setCurrentNamespace('w');
          expect(t.get()).toEqual(['in-w']);
          lower.setCurrentNamespace(undefined);
        }
      });

      it('restores the entry format of Sluice 0.1.0: TTL, namespaces, map and list values, key groups', () => {
        const { clock } = setup(); // now: 1000
        const max = 128;
        const kg = (key: Key): number => keyGroupOf(key, max);
        const old: KeyedStateSnapshot = {
          maxParallelism: max,
          states: {
            v: {
              kind: 'value',
              entries: [
                { key: 'a', keyGroup: kg('a'), value: 1 },
                { key: 2, keyGroup: kg(2), value: 5, expiresAt: 1050 },
                { key: 3, keyGroup: kg(3), namespace: 'w', value: { n: 7 } },
                { key: 4, keyGroup: kg(4), value: 9, expiresAt: 900 }, // expired before the restore
              ],
            },
            m: { kind: 'map', entries: [{ key: 'a', keyGroup: kg('a'), value: [['x', { n: 1 }], ['y', 2, 1020]] }] },
            l: { kind: 'list', entries: [{ key: 5n, keyGroup: kg(5n), value: ['p', 'q'] }] },
          },
        };
        const text = (x: unknown): string => JSON.stringify(x, (_k, y) => (typeof y === 'bigint' ? `${y}n` : y));
        const before = text(old);
        const c = create(clock);
        c.restore(old);
        const v = c.getState(valueState<unknown>('v', { ttl: ttl(100) }));
        const m = c.getState(mapState<string, unknown>('m', { ttl: ttl(100) }));
        const l = c.getState(listState<string>('l'));
        expect(new Set(c.keys('v'))).toEqual(new Set(['a', 2, 3]));
        c.setCurrentKey(3);
        c.setCurrentNamespace('w');
        expect(v.value()).toEqual({ n: 7 });
        (v.value() as { n: number }).n = 8; // changes the restored state, never the snapshot
        c.setCurrentNamespace(undefined);
        c.setCurrentKey(5n);
        expect(l.get()).toEqual(['p', 'q']);
        c.setCurrentKey('a');
        expect(v.value()).toBe(1);
        expect(m.entries()).toEqual([['x', { n: 1 }], ['y', 2]]);
        clock.advance(20); // 1020: the map entry with its own expiry goes
        expect(m.entries()).toEqual([['x', { n: 1 }]]);
        clock.advance(30); // 1050: key 2's stored expiry
        c.setCurrentKey(2);
        expect(v.value()).toBeUndefined();
        clock.advance(50); // 1100: entries stored without expiry got a TTL from the restore
        c.setCurrentKey('a');
        expect(v.value()).toBeUndefined();
        expect(text(old)).toBe(before);
        // Key-group ranges apply to the old format as well.
        const lower = create(clock);
        lower.restore(old, { from: 0, to: 63 });
        expect(new Set(lower.keys('v'))).toEqual(new Set(['a', 2, 3].filter((k) => kg(k) <= 63)));
      });

      it('dispose() drops everything', () => {
        const { b } = setup();
        fill(b, keys);
        b.dispose();
        expect(b.size()).toBe(0);
      });
    });
  });
}
