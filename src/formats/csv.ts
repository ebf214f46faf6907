import { createRequire } from 'node:module';
import { SluiceError } from '../errors/index.js';
import { fromUtf8, utf8, type Format } from './format.js';

// csv-parse is loaded with the first CSV line: importing Sluice skips its load time.
const require = createRequire(import.meta.url);
let csvParse: typeof import('csv-parse/sync').parse | undefined;

/** Options of {@link csvFormat}. */
export interface CsvFormatOptions<T> {
  /** The field names, in order: each message is one line of these fields. */
  columns: readonly (keyof T & string)[];
  /** Field separator (default `,`). */
  delimiter?: string;
  /** Turn numeric fields into numbers (default false: strings). */
  cast?: boolean;
}

/** How {@link parseCsvLine} reads a line. */
export interface CsvLineOptions {
  /** Field separator: checked by {@link checkCsvDelimiter}. */
  readonly delimiter: string;
  /** Turn numeric fields into numbers (csv-parse's `cast: true`); fields stay strings otherwise. */
  readonly cast: boolean;
}

/**
 * Refuses a delimiter that CSV lines cannot use: empty, or holding a quote or a line
 * break. `what` names the option in the message (`'csvFormat: delimiter'`).
 */
export function checkCsvDelimiter(delimiter: unknown, what: string): string {
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /[\r\n"]/.test(delimiter)) {
    throw new SluiceError('INVALID_ARGUMENT', `${what} must be a non-empty string without quotes or line breaks, got ${JSON.stringify(delimiter)}`);
  }
  return delimiter;
}

/**
 * The fields of one CSV line. A field may be quoted (and hold the delimiter or doubled
 * quotes), but the text must be exactly one record: it throws otherwise, as on a quote
 * left open. The one CSV parser of Sluice: `csvFormat` and the file source's `csv` use it.
 *
 * @example
 * parseCsvLine('a1,"Tea, green",9.5', { delimiter: ',', cast: true }); // ['a1', 'Tea, green', 9.5]
 */
export function parseCsvLine(text: string, opts: CsvLineOptions): unknown[] {
  csvParse ??= (require('csv-parse/sync') as typeof import('csv-parse/sync')).parse;
  const rows = csvParse(text, { delimiter: opts.delimiter, cast: opts.cast, relax_quotes: false }) as unknown[][];
  if (rows.length !== 1) throw new Error(`expected one CSV line, found ${rows.length}`);
  return rows[0]!;
}

/** The record of a line's `fields` named by `columns`; throws when their numbers differ. */
export function csvRecord(columns: readonly string[], fields: readonly unknown[]): Record<string, unknown> {
  if (fields.length !== columns.length) throw new Error(`expected ${columns.length} fields (${columns.join(', ')}), found ${fields.length}`);
  const record: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    record[c] = fields[i];
  });
  return record;
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
  if (!Array.isArray(opts.columns) || opts.columns.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', 'csvFormat: columns must be a non-empty array of field names');
  }
  const line: CsvLineOptions = { delimiter: checkCsvDelimiter(opts.delimiter ?? ',', 'csvFormat: delimiter'), cast: opts.cast ?? false };
  const { delimiter } = line;
  const columns = [...opts.columns];
  const quote = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return s.includes(delimiter) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return {
    name: 'csv',
    encode: (value) => utf8(columns.map((c) => quote(value[c])).join(delimiter)),
    decode: (bytes) => csvRecord(columns, parseCsvLine(fromUtf8(bytes), line)) as T,
  };
}
