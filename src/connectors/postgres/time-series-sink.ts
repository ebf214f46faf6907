import { scrubSecrets } from '../../errors/secret.js';
import type pg from 'pg';
import { SluiceError } from '../../errors/index.js';
import { toMillis, type Duration } from '../../time/duration.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { loadOptional } from '../shared/optional-client.js';
import { sqlIdentifier } from './identifier.js';
import { checkPostgresConnection, pgConnectFailure, pgSetup } from './client-config.js';
import type { PostgresConnectionOptions } from './connection.js';
import { describeTls } from '../shared/describe-tls.js';
import { TimePartitions } from './time-partitions.js';

/** Options of {@link postgresTimeSeriesSink}. */
export interface PostgresTimeSeriesSinkOptions<T> extends PostgresConnectionOptions {
  /** The table; created (partitioned by range of `time`) when it does not exist. */
  table: string;
  /** The columns and their SQL types, in the order `row` gives values: `{ sensor: 'text', ts: 'timestamptz', mean: 'double precision' }`. */
  columns: Readonly<Record<string, string>>;
  /** The series key columns: with `time`, the primary key upserts go by. */
  series: readonly string[];
  /** The time column (type `timestamptz`); `row` gives it as epoch milliseconds or a Date. */
  time: string;
  /** A record's values for `columns`, in their order; any other length fails the job with BAD_RECORD. */
  row: (value: T) => readonly unknown[];
  /** Width of each time partition (default `'1d'`). */
  partition?: Duration;
  /**
   * Retention: partitions that end more than this long before now (the job's clock) are
   * dropped, when the writer opens and then at most once a minute at checkpoints. Default: kept.
   */
  retention?: Duration;
  /** Rows per statement (default 5000). */
  batchSize?: number;
}

/** The sink {@link postgresTimeSeriesSink} returns. */
export interface PostgresTimeSeriesSink<T> extends Sink<T> {
  readonly kind: 'postgres-time-series';
}

const TYPE = /^[A-Za-z][A-Za-z0-9_ ]*(\(\d+(,\s*\d+)?\))?$/;
const RETENTION_EVERY_MS = 60_000;

/**
 * Time series into PostgreSQL: rows upserted by (series key, time) into a table partitioned
 * by range of time (declarative partitioning), partitions made as rows reach them and
 * dropped whole when older than `retention`.
 *
 * Each batch is one statement whatever its size: `INSERT … SELECT … FROM unnest($1::text[],
 * $2::float8[], …) ON CONFLICT (series…, time) DO UPDATE`, one array parameter per column
 * (the time as epoch milliseconds, made a timestamptz by `to_timestamp` in the statement). The `pg` client has no COPY without a further package (pg-copy-streams), and COPY
 * into a staging table would add a second statement per batch for the upsert; arrays give
 * the same one-round-trip batch. TimescaleDB (hypertables, compression, its retention
 * policies) is not used: no package of it exists for this machine's PostgreSQL 15 in its
 * Debian sources; plain partitions give the same API.
 *
 * Guarantee: exactly-once by idempotence, as {@link postgresSink}: at each barrier the rows
 * since the last one are written in one transaction with the checkpoint id; a replay after
 * a restore writes the same rows again over themselves.
 *
 * @example
 * hourly.sinkTo(postgresTimeSeriesSink<RollupRow<string, { mean: number }>>({
 *   table: 'temps_1h', columns: { sensor: 'text', ts: 'timestamptz', mean: 'double precision' },
 *   series: ['sensor'], time: 'ts', row: (r) => [r.key, r.start, r.values.mean], partition: '7d', retention: '365d',
 * }), { uid: 'temps-1h' });
 */
export function postgresTimeSeriesSink<T>(opts: PostgresTimeSeriesSinkOptions<T>): PostgresTimeSeriesSink<T> {
  const who = 'postgresTimeSeriesSink';
  if (!opts || typeof opts.columns !== 'object' || opts.columns === null || !Array.isArray(opts.series) || typeof opts.time !== 'string' || typeof opts.row !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${who}: table, columns, series, time and row are required`);
  }
  checkPostgresConnection(opts, who);
  const names = Object.keys(opts.columns);
  for (const c of [...opts.series, opts.time]) if (!names.includes(c)) throw new SluiceError('INVALID_ARGUMENT', `${who}: column ${c} is not among the columns (${names.join(', ')})`);
  for (const [c, t] of Object.entries(opts.columns)) {
    if (typeof t !== 'string' || !TYPE.test(t) || /\[/.test(t)) throw new SluiceError('INVALID_ARGUMENT', `${who}: column ${c} has type ${JSON.stringify(t)}, not a plain SQL type name`);
  }
  if (!/^timestamp(tz| with time zone)$/i.test(opts.columns[opts.time]!.trim())) {
    throw new SluiceError('INVALID_ARGUMENT', `${who}: the time column ${opts.time} must have type timestamptz, got ${opts.columns[opts.time]}`);
  }
  const batchSize = opts.batchSize ?? 5000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new SluiceError('INVALID_ARGUMENT', `${who}: batchSize must be a positive integer, got ${batchSize}`);
  const width = toMillis(opts.partition ?? '1d', `${who} partition`);
  if (!Number.isSafeInteger(width) || width < 1000) throw new SluiceError('INVALID_ARGUMENT', `${who}: partition must be a whole number of milliseconds, at least 1s, got ${String(opts.partition)}`);
  const retention = opts.retention === undefined ? undefined : toMillis(opts.retention, `${who} retention`);
  const table = sqlIdentifier(opts.table, who);
  const cols = names.map((c) => sqlIdentifier(c, who));
  const keys = [...opts.series, opts.time].map((c) => sqlIdentifier(c, who));
  const updates = names.filter((c) => c !== opts.time && !opts.series.includes(c)).map((c) => `${sqlIdentifier(c, who)} = EXCLUDED.${sqlIdentifier(c, who)}`);
  const plan: Plan = {
    who,
    create: `CREATE TABLE IF NOT EXISTS ${table} (${names.map((c, i) => `${cols[i]} ${opts.columns[c]}${[...opts.series, opts.time].includes(c) ? ' NOT NULL' : ''}`).join(', ')}, PRIMARY KEY (${keys.join(', ')})) PARTITION BY RANGE (${sqlIdentifier(opts.time, who)})`,
    // The time goes as epoch ms in a float8[] (no Date or string per row); to_timestamp keeps microseconds.
    upsert: `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${names.map((c, i) => (c === opts.time ? `to_timestamp(c${i} / 1000.0)` : `c${i}`)).join(', ')} FROM unnest(${names
      .map((c, i) => `$${i + 1}::${c === opts.time ? 'float8' : opts.columns[c]}[]`)
      .join(', ')}) AS u(${names.map((_, i) => `c${i}`).join(', ')}) ON CONFLICT (${keys.join(', ')}) ${updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING'}`,
    timeIndex: names.indexOf(opts.time),
    keyIndexes: [...opts.series, opts.time].map((k) => names.indexOf(k)),
    batchSize,
    retention,
    partitions: () => new TimePartitions(opts.table, table, width, who),
  };
  return {
    kind: 'postgres-time-series',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `postgres time series into ${opts.table} by (${[...opts.series, opts.time].join(', ')}), partitions of ${width} ms${retention !== undefined ? `, retention ${retention} ms` : ''}${describeTls(opts.ssl)}`,
    createWriter: (ctx) => new TimeSeriesWriter<T>(opts, ctx, plan),
  };
}

interface Plan {
  who: string;
  create: string;
  upsert: string;
  timeIndex: number;
  keyIndexes: number[];
  batchSize: number;
  retention: number | undefined;
  partitions: () => TimePartitions;
}

class TimeSeriesWriter<T> implements SinkWriter<T> {
  private client: pg.Client | undefined;
  private rows = new Map<string, unknown[]>();
  private readonly partitions: TimePartitions;
  private lastRetention = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly opts: PostgresTimeSeriesSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly plan: Plan,
  ) {
    this.partitions = plan.partitions();
  }

  private get sinkName(): string {
    return `${this.opts.table}/${this.ctx.uid}`;
  }

  async open(): Promise<void> {
    const { default: pgModule } = await loadOptional('pg', 'the PostgreSQL time-series sink', () => import('pg'));
    const who = `${this.plan.who} '${this.ctx.uid}'`;
    const setup = await pgSetup(this.opts, who);
    this.secrets = setup.secrets;
    const client = new pgModule.Client(setup.config);
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (e) {
      // Not awaited: after a refused handshake pg's end() can wait for a socket event that never comes.
      void client.end().catch(() => {});
      throw pgConnectFailure(who, setup, e, 'SINK_FAILED', `failed connecting (${this.partitions.describe()})`, this.ctx.uid);
    }
    try {
      await client.query(this.plan.create);
      await client.query('CREATE TABLE IF NOT EXISTS sluice_sink_checkpoints (sink text PRIMARY KEY, checkpoint_id bigint NOT NULL)');
      await client.query('INSERT INTO sluice_sink_checkpoints (sink, checkpoint_id) VALUES ($1, 0) ON CONFLICT (sink) DO NOTHING', [this.sinkName]);
      this.client = client;
      await this.applyRetention(true);
    } catch (e) {
      this.client = undefined;
      await client.end().catch(() => {});
      throw this.failed('opening', e);
    }
  }

  write(values: T[]): Promise<void> | void {
    const { timeIndex, keyIndexes } = this.plan;
    const width = Object.keys(this.opts.columns).length;
    for (const v of values) {
      const given = this.opts.row(v);
      if (!Array.isArray(given) || given.length !== width) {
        throw this.badRecord(v, `row() returned ${Array.isArray(given) ? `${given.length} values` : typeof given}; expected ${width} (${Object.keys(this.opts.columns).join(', ')})`);
      }
      const row = given.slice();
      const t = row[timeIndex] instanceof Date ? (row[timeIndex] as Date).getTime() : row[timeIndex];
      if (typeof t !== 'number' || !Number.isFinite(t)) throw this.badRecord(v, `the time ${this.opts.time} is ${String(row[timeIndex])}; expected epoch milliseconds or a Date`);
      row[timeIndex] = t;
      // One statement cannot update a row twice (ON CONFLICT): the last row per key wins, as in order.
      const k = JSON.stringify(keyIndexes.map((i) => row[i]));
      this.rows.delete(k);
      this.rows.set(k, row);
    }
    if (!this.ctx.transactional && this.rows.size >= this.plan.batchSize) return this.writeBuffered();
  }

  /** Writes the buffered rows (and the checkpoint id, when given) in one transaction. */
  private async writeBuffered(checkpointId?: number): Promise<void> {
    const rows = [...this.rows.values()];
    this.rows = new Map();
    if (rows.length === 0 && checkpointId === undefined) return;
    const c = this.client!;
    const { timeIndex, batchSize } = this.plan;
    const width = Object.keys(this.opts.columns).length;
    try {
      // DDL outside the transaction: a rolled-back batch must not leave partitions we think exist.
      await this.partitions.ensure(c, rows.map((r) => r[timeIndex] as number));
      // One statement is atomic by itself: a transaction only when there are several.
      const transaction = checkpointId !== undefined || rows.length > batchSize;
      if (transaction) await c.query('BEGIN');
      for (let i = 0; i < rows.length; i += batchSize) {
        const chunk = rows.slice(i, i + batchSize);
        const columns: unknown[][] = Array.from({ length: width }, () => new Array(chunk.length));
        for (let r = 0; r < chunk.length; r++) {
          const row = chunk[r]!;
          for (let col = 0; col < width; col++) columns[col]![r] = row[col];
        }
        await c.query(this.plan.upsert, columns);
      }
      if (checkpointId !== undefined) await c.query('UPDATE sluice_sink_checkpoints SET checkpoint_id = $1 WHERE sink = $2', [checkpointId, this.sinkName]);
      if (transaction) await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw this.failed('writing', e);
    }
    await this.applyRetention(false);
  }

  /** Drops partitions older than the retention; at most once a minute unless `now`. */
  private async applyRetention(force: boolean): Promise<void> {
    if (this.plan.retention === undefined) return;
    const now = this.ctx.clock.now();
    if (!force && now - this.lastRetention < RETENTION_EVERY_MS) return;
    this.lastRetention = now;
    try {
      await this.partitions.dropEndingBefore(this.client!, now - this.plan.retention);
    } catch (e) {
      throw this.failed('dropping partitions past the retention', e);
    }
  }

  /** At a barrier: the rows since the last one and the checkpoint id, committed together. */
  async preCommit(checkpointId: number): Promise<{ checkpointId: number }> {
    await this.writeBuffered(Math.min(checkpointId, Number.MAX_SAFE_INTEGER));
    return { checkpointId };
  }

  /** Committed at preCommit already (idempotent upserts). */
  async commit(): Promise<void> {}

  /** Nothing is left open between preCommit and commit. */
  async recover(): Promise<void> {}

  async flush(): Promise<void> {
    await this.writeBuffered();
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => {});
  }

  private badRecord(value: T, what: string): SluiceError {
    return new SluiceError('BAD_RECORD', `${this.plan.who} '${this.ctx.uid}': ${what}`, { step: this.ctx.uid, detail: JSON.stringify(value)?.slice(0, 200) });
  }

  /** The connection string and password once resolved: kept to hide them in messages. */
  private secrets: string[] = [];

  private failed(doing: string, e: unknown): SluiceError {
    // A server's message could quote the connection string: hide it (and no raw cause, which may hold it).
    const reason = scrubSecrets((e as Error)?.message ?? String(e), this.secrets);
    return new SluiceError('SINK_FAILED', `${this.plan.who} '${this.ctx.uid}': failed ${doing} (${this.partitions.describe()}): ${reason}`, { step: this.ctx.uid });
  }
}
