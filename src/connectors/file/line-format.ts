import { SluiceError } from '../../errors/index.js';
import { checkCsvDelimiter, csvRecord, parseCsvLine } from '../../formats/csv.js';

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
 * Makes a parser for CSV, one line at a time, with the CSV format's line parser
 * (`formats/csv.ts`). A field may be quoted (and hold the delimiter or quotes), but not a
 * line break: records span one line each.
 */
export function csvParser(opts: CsvOptions = {}, what = 'fileSource'): LineParser {
  const header = opts.header ?? true;
  const delimiter = checkCsvDelimiter(opts.delimiter ?? ',', `${what}: csv.delimiter`);
  if (opts.columns !== undefined && (!Array.isArray(opts.columns) || opts.columns.length === 0 || opts.columns.some((c) => typeof c !== 'string'))) {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: csv.columns must be a non-empty array of column names`);
  }
  let columns: string[] | undefined = opts.columns?.slice();
  let headerPending = header;
  const row = { delimiter, cast: opts.cast ?? false };
  return (text) => {
    if (headerPending) {
      headerPending = false;
      const names = parseCsvLine(text, { delimiter, cast: false }).map(String);
      columns ??= names;
      return undefined;
    }
    const fields = parseCsvLine(text, row);
    return { value: columns ? csvRecord(columns, fields) : fields };
  };
}
