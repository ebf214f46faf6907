import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/connectors/file/line-splitter.js';

function all(s: LineSplitter): string[] {
  const out: string[] = [];
  for (let l = s.next(); l; l = s.next()) out.push(l.text);
  return out;
}

describe('LineSplitter', () => {
  it('splits lines across chunks and tracks the byte offset after each', () => {
    const s = new LineSplitter();
    s.push(Buffer.from('ab'));
    expect(s.next()).toBeUndefined();
    s.push(Buffer.from('c\nde\r\n'));
    expect(s.next()).toEqual({ text: 'abc', number: 1, end: 4 });
    expect(s.next()).toEqual({ text: 'de', number: 2, end: 8 });
    expect(s.offset).toBe(8);
    expect(s.next()).toBeUndefined();
    expect(s.takeRest()).toBeUndefined();
  });

  it('keeps an unterminated last line until asked for the rest', () => {
    const s = new LineSplitter();
    s.push(Buffer.from('x\ny'));
    expect(all(s)).toEqual(['x']);
    expect(s.offset).toBe(2);
    expect(s.pendingBytes).toBe(1);
    expect(s.takeRest()).toEqual({ text: 'y', number: 2, end: 3 });
  });

  it('decodes a UTF-8 character cut between chunks', () => {
    const bytes = Buffer.from('€uro\n');
    const s = new LineSplitter();
    s.push(bytes.subarray(0, 1));
    s.push(bytes.subarray(1));
    expect(all(s)).toEqual(['€uro']);
  });

  it('drops a byte-order mark at the start of the file only', () => {
    const s = new LineSplitter();
    s.push(Buffer.from('\uFEFFa\n\uFEFFb\n'));
    expect(all(s)).toEqual(['a', '\uFEFFb']);
  });

  it('starts over after reset', () => {
    const s = new LineSplitter();
    s.push(Buffer.from('one\ntw'));
    all(s);
    s.reset(0);
    s.push(Buffer.from('new\n'));
    expect(s.next()).toEqual({ text: 'new', number: 1, end: 4 });
  });

  it('gives the same lines however the bytes are cut (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }).map((t) => t.replace(/[\r\n]/g, ''))), fc.array(fc.nat(40)), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const s = new LineSplitter();
        const got: string[] = [];
        let at = 0;
        for (const c of cuts) {
          s.push(bytes.subarray(at, Math.min(bytes.length, at + c)));
          at = Math.min(bytes.length, at + c);
          got.push(...all(s));
        }
        s.push(bytes.subarray(at));
        got.push(...all(s));
        const expected = lines.slice();
        if (expected[0]?.startsWith('\uFEFF')) expected[0] = expected[0].slice(1); // a leading BOM is dropped
        expect(got).toEqual(expected);
        expect(s.offset).toBe(bytes.length);
      }),
    );
  });
});
