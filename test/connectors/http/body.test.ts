import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidUtf8Offset, parseBody } from '../../../src/connectors/http/body.js';

const strict = new TextDecoder('utf-8', { fatal: true });
const valid = (b: Uint8Array): boolean => {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
};

describe('invalidUtf8Offset', () => {
  it('agrees with the fatal TextDecoder on what is UTF-8, and points past a valid prefix (property)', () => {
    // Bytes biased towards the lead and continuation ranges, where the edge cases are.
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 12 }), (bytes) => {
        const b = Uint8Array.from(bytes);
        const at = invalidUtf8Offset(b);
        expect(at === -1).toBe(valid(b));
        if (at >= 0) expect(valid(b.subarray(0, at))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('accepts every code point encoded, and refuses overlong forms, surrogates and what lies above U+10FFFF', () => {
    for (const s of ['a', 'é', '€', '𝄞', '\u{10FFFF}', '\uFFFD']) expect(invalidUtf8Offset(Buffer.from(s))).toBe(-1);
    expect(invalidUtf8Offset(Uint8Array.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong NUL
    expect(invalidUtf8Offset(Uint8Array.from([0xe0, 0x80, 0xaf]))).toBe(0); // overlong '/'
    expect(invalidUtf8Offset(Uint8Array.from([0xed, 0xa0, 0x80]))).toBe(0); // U+D800
    expect(invalidUtf8Offset(Uint8Array.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // U+110000
    expect(invalidUtf8Offset(Uint8Array.from([0x61, 0xe2, 0x82]))).toBe(1); // cut short
  });
});

describe('parseBody', () => {
  it('refuses bytes that are not UTF-8 by default, reads them as U+FFFD under replace, and skips a BOM', () => {
    const bad = Buffer.from([0x22, 0xfe, 0x22]);
    expect(parseBody('application/json', bad)).toEqual({
      ok: false,
      status: 400,
      answer: { error: 'body is not valid UTF-8: nothing was accepted', offset: 1, line: 1, bytes: 'fe22' },
    });
    expect(parseBody('application/json', bad, 'replace')).toEqual({ ok: true, records: [{ value: '\uFFFD', place: { line: 1 } }] });
    const bom = Buffer.from('\uFEFF[1,2]');
    expect(parseBody('application/json; charset=utf-8', bom)).toMatchObject({ ok: true, records: [{ value: 1 }, { value: 2 }] });
  });
});
