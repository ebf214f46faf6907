import { describe, expect, it } from 'vitest';
import { murmur3x86_128 } from '../../../src/window/aggregates/murmur3.js';

const hex = (words: number[]): string => words.map((w) => w.toString(16).padStart(8, '0')).join('');

describe('murmur3x86_128', () => {
  it('matches the reference implementation', () => {
    // Vectors of Appleby's MurmurHash3_x86_128, as published by other ports.
    expect(murmur3x86_128('', 0)).toEqual([0, 0, 0, 0]);
    expect(murmur3x86_128('abcde', 42)).toEqual([1480429215, 166782523, 3736068775, 3736068775]);
    expect(hex(murmur3x86_128('Hello'))).toBe('2360ae465e6336c6ad45b3f4ad45b3f4');
    expect(hex(murmur3x86_128('This is awesome!', -10))).toBe('cc7d210d8b66676026648e74f44f2d01'); // one full block
  });

  it('hashes UTF-8 bytes and long strings (buffer growth)', () => {
    expect(murmur3x86_128('é')).not.toEqual(murmur3x86_128('\u00c3\u00a9'));
    const long = 'x'.repeat(10_000);
    expect(murmur3x86_128(long)).toEqual(murmur3x86_128(long));
    expect(murmur3x86_128(long)).not.toEqual(murmur3x86_128(`${long}y`));
  });
});
