import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset, lineAndColumn } from '../../../src/connectors/http/json-error-offset.js';

describe('jsonErrorOffset', () => {
  it('points at the first character that cannot continue the document', () => {
    expect(jsonErrorOffset('{"a":}')).toBe(5);
    expect(jsonErrorOffset('[1, 2')).toBe(5);
    expect(jsonErrorOffset('[1 2]')).toBe(3);
    expect(jsonErrorOffset('{"a":1,}')).toBe(7);
    expect(jsonErrorOffset('tru')).toBe(3);
    expect(jsonErrorOffset('"a\\x"')).toBe(3);
    expect(jsonErrorOffset('1 2')).toBe(2);
    expect(jsonErrorOffset('')).toBe(0);
    expect(jsonErrorOffset('-')).toBe(0);
  });

  it('agrees with JSON.parse on what is valid (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.json().map((j) => j.slice(0, Math.floor(j.length / 2)))), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(jsonErrorOffset(text) === -1).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });

  it('turns an offset into a line and column', () => {
    expect(lineAndColumn('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    expect(lineAndColumn('x', 0)).toEqual({ line: 1, column: 1 });
  });
});
