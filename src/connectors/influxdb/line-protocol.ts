import { SluiceError } from '../../errors/index.js';

/**
 * One InfluxDB point: a measurement, tags (indexed strings), fields (the values) and a time.
 * A point with the same measurement, tag set and time as an earlier one replaces its
 * fields: that is what makes writing InfluxDB idempotent.
 */
export interface InfluxPoint {
  readonly measurement: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** At least one. Numbers are written as floats, bigints as integers (`42i`). */
  readonly fields: Readonly<Record<string, number | bigint | boolean | string>>;
  /** Epoch milliseconds (a fraction carries microseconds), or epoch nanoseconds as a bigint. */
  readonly time: number | bigint;
}

/** The precisions of InfluxDB 1.x's write API, coarsest last. */
export type InfluxPrecision = 'ns' | 'u' | 'ms' | 's' | 'm' | 'h';

const NS_PER: Record<InfluxPrecision, bigint> = { ns: 1n, u: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const COARSEST_FIRST: InfluxPrecision[] = ['h', 'm', 's', 'ms', 'u', 'ns'];

/** A point's time checked: finite epoch milliseconds, or bigint nanoseconds; throws BAD_RECORD otherwise. */
export function checkTime(time: unknown): number | bigint {
  if (typeof time === 'bigint' || (typeof time === 'number' && Number.isFinite(time))) return time;
  throw new SluiceError('BAD_RECORD', `an InfluxDB point's time must be epoch milliseconds or bigint nanoseconds, got ${String(time)}`);
}

/** A time in epoch nanoseconds (a fractional millisecond keeps microseconds, what a double holds exactly at today's epoch). */
function nanos(t: number | bigint): bigint {
  if (typeof t === 'bigint') return t;
  return Number.isInteger(t) ? BigInt(t) * 1_000_000n : BigInt(Math.round(t * 1000)) * 1000n;
}

const MS_PER: Record<'h' | 'm' | 's' | 'ms', number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/**
 * The coarsest precision that writes every time exactly: whole hours give `h`, whole
 * seconds `s`, and so on. Coarser timestamps are shorter lines and less for the server to
 * parse. Times in milliseconds are checked as numbers (BigInt arithmetic per point would
 * cost more than the write); bigint nanoseconds as bigints.
 */
export function precisionFor(times: readonly (number | bigint)[]): InfluxPrecision {
  if (times.every((t) => typeof t === 'number')) {
    const ms = times as readonly number[];
    for (const p of ['h', 'm', 's', 'ms'] as const) {
      const unit = MS_PER[p];
      if (ms.every((t) => t % unit === 0)) return p;
    }
    return 'u'; // fractions of a millisecond are kept to the microsecond
  }
  const ns = times.map(nanos);
  for (const p of COARSEST_FIRST) {
    const unit = NS_PER[p];
    if (ns.every((t) => t % unit === 0n)) return p;
  }
  return 'ns';
}

/** `t` in `precision` units, as written on the line; exact for the precision {@link precisionFor} chose. */
export function inPrecision(t: number | bigint, precision: InfluxPrecision): string {
  if (typeof t === 'number') {
    if (precision === 'u') return String(Math.round(t * 1000));
    if (precision !== 'ns') return String(Math.floor(t / MS_PER[precision]));
  }
  return (nanos(t) / NS_PER[precision]).toString();
}

// Line protocol escaping (InfluxDB 1.x): measurement names escape commas and spaces; tag
// keys, tag values and field keys also escape '='; string field values escape '"' and '\'.
const escMeasurement = (s: string) => s.replace(/[, ]/g, (c) => `\\${c}`);
const escKey = (s: string) => s.replace(/[,= ]/g, (c) => `\\${c}`);
const escString = (s: string) => s.replace(/["\\]/g, (c) => `\\${c}`);

/** Characters that need escaping or refusing somewhere in a key: a string without them is written as it is. */
const SPECIAL = /[,= \n\r\\"]/;

/** A measurement, tag key, tag value or field key, escaped with `esc`; the common case (nothing to escape) costs one regex test. */
function name(s: unknown, what: string, esc: (s: string) => string): string {
  if (typeof s === 'string' && s.length > 0 && !SPECIAL.test(s)) return s;
  return esc(plain(s, what));
}

function plain(s: unknown, what: string): string {
  if (typeof s !== 'string' || s.length === 0) throw new SluiceError('BAD_RECORD', `an InfluxDB point's ${what} must be a non-empty string, got ${JSON.stringify(s)}`);
  // Line protocol has no escape for a line break: it would end the line.
  if (/[\n\r]/.test(s) || s.endsWith('\\')) throw new SluiceError('BAD_RECORD', `an InfluxDB point's ${what} ${JSON.stringify(s)} contains a line break or ends with a backslash, which line protocol cannot carry`);
  return s;
}

function fieldValue(v: unknown, name: string): string {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new SluiceError('BAD_RECORD', `InfluxDB field ${name} is ${v}: line protocol has no NaN or infinity`);
      return String(v);
    case 'bigint':
      return `${v}i`;
    case 'boolean':
      return v ? 't' : 'f';
    case 'string':
      if (/[\n\r]/.test(v)) throw new SluiceError('BAD_RECORD', `InfluxDB string field ${name} contains a line break, which line protocol cannot carry`);
      return `"${escString(v)}"`;
    default:
      throw new SluiceError('BAD_RECORD', `InfluxDB field ${name} is ${v === null ? 'null' : typeof v}; a field is a number, bigint, boolean or string`);
  }
}

/**
 * One point as a line of line protocol, without its time: `measurement,tag=v field=1`.
 * Tags are sorted by key, as InfluxDB recommends (it indexes them in that order).
 */
export function pointLine(p: InfluxPoint): string {
  if (p === null || typeof p !== 'object') throw new SluiceError('BAD_RECORD', `an InfluxDB point must be an object, got ${p === null ? 'null' : typeof p}`);
  let line = name(p.measurement, 'measurement', escMeasurement);
  if (p.tags) {
    for (const k of Object.keys(p.tags).sort()) {
      const v = p.tags[k];
      if (v === undefined || v === '') continue; // InfluxDB has no empty tag value: leaving it out is how one says "none"
      line += `,${name(k, 'tag key', escKey)}=${name(v, `tag ${k}`, escKey)}`;
    }
  }
  const fields = p.fields && typeof p.fields === 'object' ? Object.keys(p.fields) : [];
  let sep = ' ';
  for (const k of fields) {
    const v = p.fields[k];
    if (v === undefined) continue;
    line += `${sep}${name(k, 'field key', escKey)}=${fieldValue(v, k)}`;
    sep = ',';
  }
  if (sep === ' ') throw new SluiceError('BAD_RECORD', `InfluxDB point of ${p.measurement} has no field; a point needs at least one`);
  return line;
}
