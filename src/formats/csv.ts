import { parse } from 'csv-parse/sync';
import { SluiceError } from '../errors/index.js';
import { fromUtf8, utf8, type Format } from './format.js';

export interface CsvFormatOptions<T> {
  /** The field names, in order: each message is one line of these fields. */
  columns: readonly (keyof T & string)[];
  /** Field separator (default `,`). */
  delimiter?: string;
  /** Turn numeric fields into numbers (default false: strings). */
  cast?: boolean;
}

/**
 * One CSV line per message, mapped to an object by `columns` (messages have no header).
 * Fields holding the delimiter, quotes or line breaks are quoted on encode.
 *
 * @example
 * const f = csvFormat<{ id: string; n: number }>({ columns: ['id', 'n'], cast: true });
 * f.decode(utf8('a,3')); // { id: 'a', n: 3 }
 */
export function csvFormat<T extends Record<string, unknown>>(opts: CsvFormatOptions<T>): Format<T> {
  const delimiter = opts.delimiter ?? ',';
  if (!Array.isArray(opts.columns) || opts.columns.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', 'csvFormat: columns must be a non-empty array of field names');
  }
  if (delimiter.length === 0 || /[\r\n"]/.test(delimiter)) {
    throw new SluiceError('INVALID_ARGUMENT', `csvFormat: delimiter must be non-empty, without quotes or line breaks, got ${JSON.stringify(delimiter)}`);
  }
  const columns = [...opts.columns];
  const quote = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return s.includes(delimiter) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return {
    name: 'csv',
    encode: (value) => utf8(columns.map((c) => quote(value[c])).join(delimiter)),
    decode: (bytes) => {
      const rows = parse(fromUtf8(bytes), { delimiter, cast: opts.cast ?? false }) as unknown[][];
      if (rows.length !== 1) throw new Error(`expected one CSV line, found ${rows.length}`);
      const row = rows[0]!;
      if (row.length !== columns.length) throw new Error(`expected ${columns.length} fields (${columns.join(', ')}), found ${row.length}`);
      const out: Record<string, unknown> = {};
      columns.forEach((c, i) => {
        out[c] = row[i];
      });
      return out as T;
    },
  };
}
