import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors/index.js';
import {
  DEFAULT_MAX_PARALLELISM,
  hashKey,
  keyGroupOf,
  keyGroupRange,
  murmur3Utf8,
  subtaskForKey,
  subtaskForKeyGroup,
} from '../../src/state/key-groups.js';
import type { Key } from '../../src/state/types.js';

/** Textbook MurmurHash3 x86_32 over a byte array: the reference the streaming version must equal. */
function referenceMurmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed | 0;
  const blocks = bytes.length & ~3;
  const mix = (k: number): number => Math.imul(((Math.imul(k, 0xcc9e2d51) << 15) | (Math.imul(k, 0xcc9e2d51) >>> 17)), 0x1b873593);
  for (let i = 0; i < blocks; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h ^= mix(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = bytes.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) k ^= bytes[blocks + 1]! << 8;
    k ^= bytes[blocks]!;
    h ^= mix(k);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const canonical = (key: Key): string => (typeof key === 'string' ? `s${key}` : typeof key === 'number' ? `n${String(key)}` : `b${key}`);
const utf8 = new TextEncoder();

describe('key hashing', () => {
  it('is MurmurHash3 x86_32: published test vectors', () => {
    expect(murmur3Utf8('')).toBe(0);
    expect(murmur3Utf8('hello')).toBe(0x248bfa47);
    expect(murmur3Utf8('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
  });

  // These numbers are part of the checkpoint format: if this test fails, restored state
  // would go to the wrong subtask. Do not update them; fix the hash.
  it('pins the key -> hash -> key group mapping', () => {
    const pinned: Array<[Key, number, number]> = [
      ['user-1', 3517051467, 75],
      ['a', 1256513470, 62],
      ['', 4283091697, 113],
      [1, 1018720339, 83],
      [0, 2823290447, 79],
      [-1, 3701319290, 122],
      [42, 3088772066, 98],
      [1.5, 179991405, 109],
      [2 ** 60, 4268958567, 103],
      [1n, 3690722467, 35],
      ['1', 755411475, 19],
      [12345678901234567890n, 2196406327, 55],
      ['héllo', 2320171488, 96],
      ['日本', 3891872619, 107],
      ['😀', 4237865088, 0],
    ];
    for (const [key, hash, group] of pinned) {
      expect([key, hashKey(key), keyGroupOf(key)]).toEqual([key, hash, group]);
    }
  });

  it('distinguishes 1, "1" and 1n, and treats -0 as 0', () => {
    expect(new Set([hashKey(1), hashKey('1'), hashKey(1n)]).size).toBe(3);
    expect(hashKey(-0)).toBe(hashKey(0));
  });

  it('equals the reference over the UTF-8 bytes of the canonical form, for any key', () => {
    const anyUtf16 = fc.string({ unit: fc.nat({ max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    const key = fc.oneof(
      anyUtf16,
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt(),
    );
    fc.assert(
      fc.property(key, (k) => {
        expect(hashKey(k)).toBe(referenceMurmur3(utf8.encode(canonical(k))));
      }),
      { numRuns: 2000 },
    );
  });

  it('spreads keys over the key groups', () => {
    const counts = new Array<number>(DEFAULT_MAX_PARALLELISM).fill(0);
    for (let i = 0; i < 128_000; i++) counts[keyGroupOf(i % 2 ? i : `user-${i}`)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('refuses things that are not keys', () => {
    for (const bad of [Number.NaN, Infinity, undefined, null, {}]) {
      expect(() => hashKey(bad as unknown as Key)).toThrow(SluiceError);
    }
  });
});

describe('key group ranges (Flink KeyGroupRangeAssignment)', () => {
  it('matches Flink for 3 subtasks of 128', () => {
    expect([0, 1, 2].map((s) => keyGroupRange(s, 3, 128))).toEqual([
      { from: 0, to: 42 },
      { from: 43, to: 85 },
      { from: 86, to: 127 },
    ]);
    expect(subtaskForKeyGroup(42, 3, 128)).toBe(0);
    expect(subtaskForKeyGroup(43, 3, 128)).toBe(1);
    expect(subtaskForKeyGroup(127, 3, 128)).toBe(2);
  });

  it('ranges are contiguous, cover every key group once, and agree with subtaskForKeyGroup', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }).chain((max) => fc.tuple(fc.constant(max), fc.integer({ min: 1, max: Math.min(max, 300) }))),
        ([max, parallelism]) => {
          let next = 0;
          for (let s = 0; s < parallelism; s++) {
            const r = keyGroupRange(s, parallelism, max);
            expect(r.from).toBe(next);
            expect(r.to).toBeGreaterThanOrEqual(r.from);
            expect(subtaskForKeyGroup(r.from, parallelism, max)).toBe(s);
            expect(subtaskForKeyGroup(r.to, parallelism, max)).toBe(s);
            next = r.to + 1;
          }
          expect(next).toBe(max);
        },
      ),
    );
  });

  it('routes a key to the subtask whose range holds its key group', () => {
    for (const key of ['a', 'b', 7, 9n]) {
      const s = subtaskForKey(key, 5, 128);
      const r = keyGroupRange(s, 5, 128);
      expect(keyGroupOf(key, 128)).toBeGreaterThanOrEqual(r.from);
      expect(keyGroupOf(key, 128)).toBeLessThanOrEqual(r.to);
    }
  });

  it('refuses bad parallelism and subtask indexes', () => {
    expect(() => keyGroupRange(0, 0, 128)).toThrow(SluiceError);
    expect(() => keyGroupRange(0, 129, 128)).toThrow(SluiceError);
    expect(() => keyGroupRange(3, 3, 128)).toThrow(SluiceError);
    expect(() => keyGroupRange(0, 1, 40_000)).toThrow(SluiceError);
  });
});
