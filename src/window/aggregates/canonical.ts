/**
 * The canonical string of a value: equal values (by content, not identity) give equal
 * strings, different values different strings. Distinct counts compare and hash values
 * through it, so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` count once, and `1`, `'1'` and `1n`
 * count three times.
 *
 * | value                 | canonical string                       |
 * |-----------------------|----------------------------------------|
 * | string `"ab"`         | `"sab"`                                |
 * | number `1.5`          | `"n1.5"` (`-0` is `"n0"`, all NaNs `"nNaN"`) |
 * | bigint `2n`           | `"b2"`                                 |
 * | `true` / `false`      | `"t"` / `"f"`                          |
 * | `null` / `undefined`  | `"z"` / `"u"`                          |
 * | Date                  | `"d"` + epoch milliseconds             |
 * | array                 | `[` elements `,` `]`, strings inside quoted as JSON |
 * | plain object          | `{` `"key":value` sorted by key `}`; undefined properties left out, as JSON does |
 * | Map / Set             | `M[` `key=>value` `]` / `S[` elements `]`, entries sorted |
 *
 * Functions and symbols have no canonical string: they throw BAD_RECORD. Cyclic objects are
 * not supported.
 */
import { SluiceError, describeRecord } from '../../errors/index.js';

/**
 * The canonical string of `value` (see the module comment).
 *
 * @example
 * canonicalString({ b: 2, a: [1, 'x'] }) === '{"a":[n1,"x"],"b":n2}'
 */
export function canonicalString(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    default:
      return nested(value);
  }
}

/** A self-delimiting form: strings quoted, so a composite's parts cannot run together. */
function nested(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return `n${String(value)}`;
    case 'bigint':
      return `b${value.toString()}`;
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object': {
      if (value === null) return 'z';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + nested(value[i]);
        return `${out}]`;
      }
      if (value instanceof Date) return `d${value.getTime()}`;
      if (value instanceof Map) {
        const entries = [...value].map(([k, v]) => `${nested(k)}=>${nested(v)}`).sort();
        return `M[${entries.join(',')}]`;
      }
      if (value instanceof Set) return `S[${[...value].map(nested).sort().join(',')}]`;
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const v = record[key];
        if (v !== undefined) parts.push(`${JSON.stringify(key)}:${nested(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new SluiceError('BAD_RECORD', `cannot count distinct values of type ${typeof value}: ${describeRecord(String(value))}`, {
        hint: 'Give the distinct count a field that selects a string, number, bigint, boolean, date, array or plain object.',
      });
  }
}
