/** A repartition record's value carries its event time: every number a timestamp can be, and none. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../../src/cluster/index.js';
import { SluiceError } from '../../src/errors/index.js';
import { checkProperty, propertyRuns } from '../property.js';

describe('repartition record codec', () => {
  it('gives back the record and its timestamp (negative, fractional, ±Infinity, or none as NaN)', async () => {
    const timestamp = fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1.5, 0));
    const record = fc.jsonValue();
    await checkProperty(
      fc.asyncProperty(record, timestamp, async (value, ts) => {
        const back = decodeRecord(encodeRecord(value, ts));
        expect(back.value).toEqual(JSON.parse(JSON.stringify(value)));
        expect(Object.is(back.timestamp, ts) || (Number.isNaN(ts) && Number.isNaN(back.timestamp)) || (ts === 0 && back.timestamp === 0)).toBe(true);
      }),
      propertyRuns(500),
    );
  });

  it('refuses a value that is not a repartition record, saying what it got', () => {
    expect(() => decodeRecord(Buffer.from('{"user":"u"}'))).toThrow(SluiceError);
    expect(() => decodeRecord(Buffer.from('{"user":"u"}'))).toThrow(/cannot be read: \{"user":"u"\}/);
    expect(() => decodeRecord(Buffer.from('not json'))).toThrow(/cannot be read: not json/);
  });
});
