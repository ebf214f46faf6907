import { SluiceError } from '../../errors/index.js';
import { toMillis, type Duration } from '../../time/duration.js';
import { sqlIdentifier } from './identifier.js';

/** Retention of a {@link postgresSink}'s rows by a time column (a TTL column). */
export interface PostgresRowRetention {
  /** The column holding each row's time (`timestamptz` or `timestamp`): the row expires `keep` after it. */
  column: string;
  /** How long a row is kept after its time. */
  keep: Duration;
}

const EVERY_MS = 60_000;

// The client is named by shape, not by pg's type: the package's main declarations reach this file (PostgresRowRetention) and must name no client type.

/**
 * Deletes the rows whose time column is more than `keep` before now: `DELETE … WHERE
 * column < cutoff`, when the writer opens and then at most once a minute. An index on the
 * column keeps it cheap; for large time series, dropping whole partitions is cheaper
 * still (`postgresTimeSeriesSink`'s retention).
 */
export class RowRetention {
  private readonly statement: string;
  private readonly keepMs: number;
  private last = Number.NEGATIVE_INFINITY;

  constructor(table: string, spec: PostgresRowRetention, columns: readonly string[]) {
    if (!spec || !columns.includes(spec.column)) throw new SluiceError('INVALID_ARGUMENT', `postgresSink: the retention column ${JSON.stringify(spec?.column)} is not among the columns (${columns.join(', ')})`);
    this.keepMs = toMillis(spec.keep, 'postgresSink retention keep');
    this.statement = `DELETE FROM ${table} WHERE ${sqlIdentifier(spec.column, 'postgresSink retention column')} < $1`;
  }

  /** Deletes the expired rows, unless it did less than a minute ago (`force`: regardless); returns how many went. */
  async apply(client: { query(sql: string, params: unknown[]): Promise<{ rowCount: number | null }> }, now: number, force: boolean): Promise<number> {
    if (!force && now - this.last < EVERY_MS) return 0;
    this.last = now;
    return (await client.query(this.statement, [new Date(now - this.keepMs)])).rowCount ?? 0;
  }
}
