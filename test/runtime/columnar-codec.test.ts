import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { BatchDecoder, BatchEncoder } from '../../src/runtime/exchange/batch-codec.js';
import { isColumnar } from '../../src/runtime/exchange/columnar-codec.js';

/** Encodes and decodes in one thread, as a thread channel's two ends do; says which path the batch took. */
function roundTrip(values: unknown[], encoder = new BatchEncoder(), decoder = new BatchDecoder()): { columnar: boolean; out: unknown[] } {
  const bytes = encoder.encode(values, 'test').slice();
  return { columnar: isColumnar(bytes), out: decoder.decode(bytes) };
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  toJSON() {
    return { point: `${this.x},${this.y}` };
  }
}

describe('columnar batches: what takes the fast path and arrives as it left', () => {
  it('records of one shape with number fields: `{ user, at }`', () => {
    const values = Array.from({ length: 1000 }, (_, i) => ({ user: (i * 2654435761) % 10_000, at: Math.floor(i / 100) }));
    const { columnar, out } = roundTrip(values);
    expect(columnar).toBe(true);
    expect(out).toEqual(values);
    expect(Object.keys(out[0] as object)).toEqual(['user', 'at']);
    expect(Object.getPrototypeOf(out[0])).toBe(Object.prototype);
  });

  it('every float64: NaN, ±Infinity, fractions, large integers, -0 (which msgpackr turns to 0)', () => {
    const xs = [NaN, Infinity, -Infinity, 0.1 + 0.2, 2 ** 53, -(2 ** 31), 2 ** 31, 1.7e12, Number.MIN_VALUE, -0, 0, 5];
    const { columnar, out } = roundTrip(xs.map((x, i) => ({ i, x })));
    expect(columnar).toBe(true);
    out.forEach((r, i) => expect(Object.is((r as { x: number }).x, xs[i])).toBe(true));
    // a column of small integers but for one -0 keeps the -0
    const ints = roundTrip([{ x: 1 }, { x: -0 }, { x: 2 }]);
    expect(Object.is((ints.out[1] as { x: number }).x, -0)).toBe(true);
  });

  it('a batch of plain numbers is one column (-0, NaN and fractions included)', () => {
    const xs = [1, 2.5, -0, NaN, Infinity, -7, 2 ** 40];
    const { columnar, out } = roundTrip(xs);
    expect(columnar).toBe(true);
    expect(out).toHaveLength(xs.length);
    out.forEach((x, i) => expect(Object.is(x, xs[i])).toBe(true));
    expect(roundTrip([3, 1, 2]).out).toEqual([3, 1, 2]);
  });

  it('boolean and string fields: unicode, empty strings, NUL; a lone surrogate arrives as U+FFFD (as through msgpackr)', () => {
    const values = [
      { id: 1, ok: true, name: 'naïve café 中文 😀 \u0000 end', tag: '' },
      { id: 2, ok: false, name: '', tag: 'x'.repeat(10_000) },
      { id: 3, ok: true, name: 'lone \ud800 surrogate', tag: '😀' },
    ];
    const { columnar, out } = roundTrip(values);
    expect(columnar).toBe(true);
    expect(out).toEqual([values[0], values[1], { ...values[2], name: 'lone \ufffd surrogate' }]);
  });

  it('a string column that starts with U+FEFF keeps it (not taken for a byte order mark); keys may start with it too', () => {
    const values = [
      { '\ufeffk': 1, s: '\ufeffbom first' },
      { '\ufeffk': 2, s: 'then \ufeff inside' },
    ];
    expect(roundTrip(values)).toEqual({ columnar: true, out: values });
  });

  it('a lone surrogate whose pair starts the next string of its column survives (the column is encoded as one run)', () => {
    const values = [{ s: 'ends high \ud83d' }, { s: '\ude00 starts low' }, { s: 'lone \ude00' }];
    const { columnar, out } = roundTrip(values);
    expect(columnar).toBe(true);
    expect(out).toEqual([values[0], values[1], { s: 'lone \ufffd' }]);
  });

  it('records without prototype arrive as plain objects (as through msgpackr); empty objects too', () => {
    const bare = (i: number) => Object.assign(Object.create(null) as object, { i, s: `${i}` });
    const { columnar, out } = roundTrip([bare(1), bare(2)]);
    expect(columnar).toBe(true);
    expect(out).toEqual([{ i: 1, s: '1' }, { i: 2, s: '2' }]);
    expect(Object.getPrototypeOf(out[0])).toBe(Object.prototype);
    expect(roundTrip([{}, {}])).toEqual({ columnar: true, out: [{}, {}] });
  });

  it('keys that are not identifiers, and integer-like keys, keep their names and order', () => {
    const values = [
      { 'a b': 1, '"quoted"': 2, '\u2028': 3, 7: 4, constructor: 5 },
      { 'a b': 6, '"quoted"': 7, '\u2028': 8, 7: 9, constructor: 10 },
    ];
    const { columnar, out } = roundTrip(values);
    expect(columnar).toBe(true);
    expect(out).toEqual(values);
    expect(Object.keys(out[1] as object)).toEqual(Object.keys(values[1]!));
  });

  it('decodes from a view at any offset (a copy at an aligned one)', () => {
    const values = [{ a: 1.5, s: 'x' }, { a: 2.5, s: 'yz' }];
    const bytes = new BatchEncoder().encode(values, 'test');
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(new BatchDecoder().decode(shifted.subarray(3))).toEqual(values);
  });

  it('one encoder and decoder go on across shapes and back (the decoder caches one reader per shape and int32 flags)', () => {
    const encoder = new BatchEncoder();
    const decoder = new BatchDecoder();
    const batches: unknown[][] = [
      [{ a: 1, b: 2 }],
      [{ a: 1.5, b: 2 }],
      [{ b: 1, a: 2 }],
      [1, 2, 3],
      [{ a: 1, b: 2 }, { a: 3, b: 4 }],
      [{ a: 'one', b: true }],
      [{ a: 1, b: 2 }],
    ];
    for (const values of batches) expect(roundTrip(values, encoder, decoder)).toEqual({ columnar: true, out: values });
  });
});

describe('columnar batches: a record that does not fit sends the whole batch to msgpackr, nothing lost', () => {
  const base = () => [
    { user: 1, at: 10 },
    { user: 2, at: 20 },
    { user: 3, at: 30 },
  ];
  const misfits: Array<[string, unknown]> = [
    ['an extra field', { user: 4, at: 40, extra: 1 }],
    ['a missing field', { user: 4 }],
    ['a field set to undefined', { user: 4, at: undefined }],
    ['a string value', { user: '4', at: 40 }],
    ['a null value', { user: null, at: 40 }],
    ['a bigint value', { user: 4n, at: 40 }],
    ['a Date value', { user: 4, at: new Date(40) }],
    ['a nested object', { user: { id: 4 }, at: 40 }],
    ['an array instead of an object', [4, 40]],
    ['a number instead of an object', 4],
    ['null instead of an object', null],
    ['keys in another order', { at: 40, user: 4 }],
    ['a Map', new Map([['user', 4], ['at', 40]])],
  ];
  for (const [what, misfit] of misfits) {
    for (const where of [0, 1, 3]) {
      it(`${what}, at index ${where}`, () => {
        const values: unknown[] = base();
        values.splice(where, 0, misfit);
        const { columnar, out } = roundTrip(values);
        expect(columnar).toBe(false);
        expect(out).toEqual(values);
        if (misfit !== null && typeof misfit === 'object' && !Array.isArray(misfit) && !(misfit instanceof Map)) {
          expect(Object.keys(out[where] as object)).toEqual(Object.keys(misfit));
        }
      });
    }
  }

  it('a class instance goes to msgpackr, which sends what its toJSON returns (the fast path would lose it)', () => {
    const values = [{ x: 1, y: 2 }, new Point(3, 4)];
    const { columnar, out } = roundTrip(values);
    expect(columnar).toBe(false);
    expect(out).toEqual([{ x: 1, y: 2 }, { point: '3,4' }]);
    expect(roundTrip([new Point(1, 2), new Point(3, 4)]).columnar).toBe(false);
  });

  it('a field named __proto__ (an own one, as JSON.parse makes) goes to msgpackr, which renames it __proto_ (and sets no prototype)', () => {
    const values = [JSON.parse('{"__proto__": 1, "a": 2}') as object, JSON.parse('{"__proto__": 3, "a": 4}') as object];
    const { columnar, out } = roundTrip(values);
    expect(columnar).toBe(false);
    expect(out).toEqual([{ __proto_: 1, a: 2 }, { __proto_: 3, a: 4 }]);
    expect(Object.getPrototypeOf(out[0])).toBe(Object.prototype);
  });

  it('a number batch with one non-number; an empty batch', () => {
    expect(roundTrip([1, 2, '3'])).toEqual({ columnar: false, out: [1, 2, '3'] });
    expect(roundTrip([1, -0, '3']).out[1]).toBe(0); // msgpackr's -0
    expect(roundTrip([])).toEqual({ columnar: false, out: [] });
  });

  it('past 64 shapes per encoder, new shapes go to msgpackr (keys that are data must not compile without end)', () => {
    const encoder = new BatchEncoder();
    const decoder = new BatchDecoder();
    const paths = Array.from({ length: 80 }, (_, i) => {
      const values = [{ [`k${i}`]: i }];
      const r = roundTrip(values, encoder, decoder);
      expect(r.out).toEqual(values);
      return r.columnar;
    });
    expect(paths.filter(Boolean)).toHaveLength(64);
    expect(roundTrip([{ k0: 1 }], encoder, decoder).columnar).toBe(true);
  });

  it('records of more than 64 fields go to msgpackr', () => {
    const wide = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i]));
    expect(roundTrip([wide, { ...wide }])).toEqual({ columnar: false, out: [wide, wide] });
  });
});

/** Strings for the differential test: all but lone surrogates (see above) arrive alike by both paths. */
const TEXTS = ['', 'v1', '\ufeff', '\ufeffv', 'é', 'naïve 中文', '😀', '\u0000', 'x'.repeat(70), '\u2028'];

describe('columnar batches: differential against msgpackr', () => {
  it('seeded random batches of near-identical records decode as msgpackr decodes them (but for -0)', () => {
    const paths = { columnar: 0, msgpackr: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      let x = seed;
      const rnd = (n: number) => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return x % n;
      };
      const pick = (): unknown => {
        switch (rnd(12)) {
          case 0:
            return rnd(1000);
          case 1:
            return rnd(1000) / 7;
          case 2:
            return -(2 ** 31) - rnd(3);
          case 3:
            return `s${rnd(100)}`;
          case 4:
            return rnd(2) === 0;
          case 5:
            return rnd(50) === 0 ? undefined : 0;
          case 6:
            return rnd(50) === 0 ? null : NaN;
          default:
            return rnd(1_000_000);
        }
      };
      const keys = ['a', 'b', 'c', 'd'].slice(0, 1 + rnd(4));
      const types = keys.map(() => pick());
      const n = 1 + rnd(40);
      const values: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const r: Record<string, unknown> = {};
        for (const [j, k] of keys.entries()) r[k] = typeof types[j] === 'number' ? (rnd(4) === 0 ? rnd(100) / 3 : rnd(100)) : typeof types[j] === 'string' ? TEXTS[rnd(TEXTS.length)]! : types[j];
        // now and then a record that does not fit: a changed type, an extra field, a missing one, another order
        const odd = rnd(60);
        if (odd === 0) r[keys[0]!] = 'odd';
        else if (odd === 1) r.extra = 1;
        else if (odd === 2) delete r[keys[keys.length - 1]!];
        else if (odd === 3 && keys.length > 1) {
          const first = r[keys[0]!];
          delete r[keys[0]!];
          r[keys[0]!] = first;
        }
        values.push(r);
      }
      const viaMsgpackr = new Unpackr({ moreTypes: true }).unpack(new Packr({ moreTypes: true }).pack(values)) as unknown[];
      const { out, columnar } = roundTrip(values);
      paths[columnar ? 'columnar' : 'msgpackr']++;
      try {
        expect(out).toEqual(viaMsgpackr);
        out.forEach((r, i) => expect(Object.keys(r as object)).toEqual(Object.keys(values[i] as object)));
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`);
      }
    }
    // both paths are exercised
    expect(paths.columnar).toBeGreaterThan(50);
    expect(paths.msgpackr).toBeGreaterThan(50);
  });
});
