import { parse as parseCsv } from 'csv-parse/sync';
import { SluiceError } from '../../errors/index.js';

/** How CSV lines become records. */
export interface CsvOptions {
  /** Whether the first non-empty line holds the column names (default true). */
  header?: boolean;
  /**
   * The column names. With `header: true` they replace the header's names (the header
   * line is skipped); with `header: false` they name the fields of every line. Without
   * columns and without a header, each record is the array of its fields.
   */
  columns?: string[];
  /** The field separator (default `,`). */
  delimiter?: string;
  /** Turns numeric fields into numbers (csv-parse's `cast: true`); fields stay strings otherwise. */
  cast?: boolean;
}

/** The result of parsing one line: a record, or nothing (a header line). Throws when the line is bad. */
export type LineParser = (text: string) => { value: unknown } | undefined;

/** Makes a parser for one JSON document per line. */
export function jsonlParser(): LineParser {
  return (text) => ({ value: JSON.parse(text) as unknown });
}

/**
 * Makes a parser for CSV, one line at a time. A field may be quoted (and hold the
 * delimiter or quotes), but not a line break: records span one line each.
 */
export function csvParser(opts: CsvOptions = {}, what = 'fileSource'): LineParser {
  const header = opts.header ?? true;
  const delimiter = opts.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /[\r\n"]/.test(delimiter)) {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: csv.delimiter must be a non-empty string without quotes or line breaks, got ${JSON.stringify(delimiter)}`);
  }
  if (opts.columns !== undefined && (!Array.isArray(opts.columns) || opts.columns.length === 0 || opts.columns.some((c) => typeof c !== 'string'))) {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: csv.columns must be a non-empty array of column names`);
  }
  let columns: string[] | undefined = opts.columns?.slice();
  let headerPending = header;
  const fields = (text: string, cast: boolean): unknown[] => {
    const rows = parseCsv(text, { delimiter, cast, relax_quotes: false }) as unknown[][];
    if (rows.length !== 1) throw new Error(`expected one CSV row, found ${rows.length}`);
    return rows[0]!;
  };
  return (text) => {
    if (headerPending) {
      headerPending = false;
      const names = fields(text, false).map(String);
      columns ??= names;
      return undefined;
    }
    const row = fields(text, opts.cast ?? false);
    if (!columns) return { value: row };
    if (row.length !== columns.length) {
      throw new Error(`expected ${columns.length} fields (${columns.join(', ')}), found ${row.length}`);
    }
    const record: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      record[c] = row[i];
    });
    return { value: record };
  };
}
