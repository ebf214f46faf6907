import { deserialize, serialize } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors/index.js';
import { DEFAULT_MAX_PARALLELISM as MAX, keyGroupOf } from '../../src/state/key-groups.js';
import { checkStateSnapshot, ColumnsBuilder, entriesOf, entryCount, forEachEntry, isColumns, keyGroupsOf, mapValues } from '../../src/state/snapshot-format.js';
import type { Key, Namespace, StateColumns, StateEntries, StateEntry } from '../../src/state/types.js';

/** Columns of `entries` through a builder that starts with room for `capacity`. */
function build(entries: readonly StateEntry[], capacity = entries.length, kind: StateColumns['kind'] = 'value', keyGroups = true): StateColumns {
  const b = new ColumnsBuilder(kind, capacity, { keyGroups });
  for (const e of entries) b.add(e.key, e.keyGroup, e.namespace, e.value, e.expiresAt ?? Infinity);
  return b.finish();
}

const entry = (key: Key, value: unknown, extra: { namespace?: Namespace; expiresAt?: number } = {}): StateEntry => ({
  key,
  keyGroup: keyGroupOf(key),
  value,
  ...extra,
});

/** A typed array that owns exactly its bytes (a view into more would be copied whole to a worker thread). */
const exact = (a: ArrayBufferView): boolean => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;

describe('snapshot columns', () => {
  it('numeric keys and values become typed arrays of exactly the entries, with no namespace or expiry column', () => {
    const c = build([entry(1, 10), entry(2, 20.5), entry(-3, -0)], 100);
    expect(c.count).toBe(3);
    expect(c.keys).toBeInstanceOf(Float64Array);
    expect(c.values).toBeInstanceOf(Float64Array);
    expect(c.keyGroups).toBeInstanceOf(Uint16Array);
    expect([...c.keys]).toEqual([1, 2, -3]);
    expect(Object.is(c.values[2], -0)).toBe(true);
    expect([...c.keyGroups!]).toEqual([1, 2, -3].map((k) => keyGroupOf(k)));
    for (const a of [c.keys, c.values, c.keyGroups!] as ArrayBufferView[]) expect(exact(a)).toBe(true);
    expect(c).not.toHaveProperty('namespaces');
    expect(c).not.toHaveProperty('expiresAt');
  });

  it('a column becomes an array at the first entry that is not a number, keeping the earlier ones', () => {
    const entries = [entry(1, 1), entry(2, 'two'), entry('k3', 3), entry(4n, { n: 4 }), entry(5, null)];
    const c = build(entries, 1);
    expect(c.keys).toEqual([1, 2, 'k3', 4n, 5]);
    expect(c.values).toEqual([1, 'two', 3, { n: 4 }, null]);
    expect(entriesOf(c, MAX)).toEqual(entries);
  });

  it('copies object values (a later change to the state does not reach the snapshot); strings and numbers as they are', () => {
    const shared = { n: 1 };
    const list = [1, 2];
    const b = new ColumnsBuilder('value', 4);
    b.add('a', 0, undefined, shared, Infinity);
    b.add('b', 0, undefined, list, Infinity);
    b.add('c', 0, undefined, 'text', Infinity);
    const c = b.finish();
    shared.n = 2;
    list.push(3);
    expect(c.values).toEqual([{ n: 1 }, [1, 2], 'text']);
  });

  it('namespaces: absent when none, a Float64Array when all numbers (window slices), else an array with undefined', () => {
    expect(build([entry(1, 1, { namespace: 10 }), entry(2, 1, { namespace: 20 })]).namespaces).toEqual(new Float64Array([10, 20]));
    expect(build([entry(1, 1), entry(2, 1, { namespace: 20 })]).namespaces).toEqual([undefined, 20]);
    expect(build([entry(1, 1, { namespace: 10 }), entry(2, 1, { namespace: 'w' }), entry(3, 1)]).namespaces).toEqual([10, 'w', undefined]);
  });

  it('expiry: absent when no entry expires, else Infinity for the entries without', () => {
    const c = build([entry(1, 1), entry(2, 2, { expiresAt: 500 }), entry(3, 3)]);
    expect([...c.expiresAt!]).toEqual([Infinity, 500, Infinity]);
    expect(entriesOf(c, MAX)).toEqual([entry(1, 1), entry(2, 2, { expiresAt: 500 }), entry(3, 3)]);
  });

  it('key groups may be left out: readers compute them from the keys', () => {
    const entries = [entry(1, 1), entry('a', 2, { namespace: 5 }), entry(3n, 3)];
    const c = build(entries, 2, 'value', false);
    expect(c).not.toHaveProperty('keyGroups');
    checkStateSnapshot('s', c);
    expect(entriesOf(c, MAX)).toEqual(entries);
    expect([...keyGroupsOf(c, 16)]).toEqual([1, 'a', 3n].map((k) => keyGroupOf(k as Key, 16)));
  });

  it('map and list values start as arrays', () => {
    const c = build([entry('k', [['a', 1], ['b', 2, 900]])], 1, 'map');
    expect(Array.isArray(c.values)).toBe(true);
    expect(entriesOf(c, MAX)[0]!.value).toEqual([['a', 1], ['b', 2, 900]]);
  });

  it('round-trips any entries, through V8 serialization too (fast-check: a failure prints its seed)', () => {
    const key = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.bigInt());
    const namespace = fc.option(fc.oneof(fc.integer(), fc.string()), { nil: undefined });
    const value = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.record({ n: fc.integer() }));
    const expiresAt = fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: undefined });
    const arbEntry = fc.record({ key, namespace, value, expiresAt, numeric: fc.boolean() }).map(({ key, namespace, value, expiresAt, numeric }): StateEntry => {
      // Mostly numbers, so that the typed columns and their change to arrays are both met.
      const e: { key: Key; keyGroup: number; value: unknown; namespace?: Namespace; expiresAt?: number } = { key, keyGroup: keyGroupOf(key), value: numeric ? 7 : value };
      if (namespace !== undefined) e.namespace = namespace;
      if (expiresAt !== undefined) e.expiresAt = expiresAt;
      return e;
    });
    fc.assert(
      fc.property(fc.array(arbEntry, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), fc.boolean(), (entries, capacity, keyGroups) => {
        const c = build(entries, capacity, 'value', keyGroups);
        expect(entryCount(c)).toBe(entries.length);
        expect(entriesOf(c, MAX)).toEqual(entries);
        const back = deserialize(serialize(c)) as StateColumns;
        checkStateSnapshot('s', back);
        expect(entriesOf(back, MAX)).toEqual(entries);
      }),
      { numRuns: 300 },
    );
  });
});

describe('reading stored states', () => {
  const old: StateEntries = { kind: 'value', entries: [entry('a', 1, { namespace: 'w', expiresAt: 50 }), entry(2, { n: 2 })] };

  it('reads the entries of Sluice 0.1.0 and columns alike', () => {
    const columns = build(old.entries);
    expect(isColumns(old)).toBe(false);
    expect(isColumns(columns)).toBe(true);
    for (const s of [old, columns]) {
      const seen: unknown[] = [];
      forEachEntry(s, MAX, (key, keyGroup, namespace, value, expiresAt) => seen.push([key, keyGroup, namespace, value, expiresAt]));
      expect(seen).toEqual([
        ['a', keyGroupOf('a'), 'w', 1, 50],
        [2, keyGroupOf(2), undefined, { n: 2 }, undefined],
      ]);
      expect(entriesOf(s, MAX)).toEqual(old.entries);
    }
  });

  it('mapValues (state migration) maps every value, either format, without changing the stored state', () => {
    const columns = build([entry(1, 1), entry(2, 2)]);
    expect(entriesOf(mapValues(columns, (v) => ({ n: v })), MAX).map((e) => e.value)).toEqual([{ n: 1 }, { n: 2 }]);
    expect([...columns.values]).toEqual([1, 2]);
    expect(entriesOf(mapValues(old, (v) => [v]), MAX).map((e) => e.value)).toEqual([[1], [{ n: 2 }]]);
    expect(old.entries[0]!.value).toBe(1);
  });

  it('refuses malformed states before anything is restored', () => {
    const good = build([entry(1, 1), entry(2, 2)]);
    const bad: unknown[] = [
      null,
      { kind: 'nope', entries: [] },
      { ...good, count: 3 },
      { ...good, keys: new Float32Array(2) },
      { ...good, keyGroups: [1, 2] },
      { ...good, values: new Float64Array(1) },
      { ...good, namespaces: new Float64Array(1) },
      { ...good, expiresAt: [1, 2] },
      { kind: 'value' },
    ];
    for (const s of bad) {
      try {
        checkStateSnapshot('s', s);
        throw new Error(`accepted ${JSON.stringify(s)}`);
      } catch (e) {
        expect(e).toBeInstanceOf(SluiceError);
        expect((e as SluiceError).code).toBe('STATE_INCOMPATIBLE');
      }
    }
    checkStateSnapshot('s', good);
    checkStateSnapshot('s', old);
  });
});
