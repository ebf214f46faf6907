import type pg from 'pg';
import { scrubSecrets } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { Dependency } from '../../resilience/dependency.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { loadOptional } from '../shared/optional-client.js';
import { sqlIdentifier } from './identifier.js';
import { checkPostgresConnection, pgConnectFailure, pgSetup } from './client-config.js';
import type { PostgresConnectionOptions } from './connection.js';
import { describeTls } from '../shared/describe-tls.js';
import { RowRetention, type PostgresRowRetention } from './row-retention.js';

/** Options of {@link postgresSink}. */
export interface PostgresSinkOptions<T> extends PostgresConnectionOptions {
  /** The table (it must exist, with a unique constraint on `key`). */
  table: string;
  /** The conflict target: the primary-key or unique columns. */
  key: readonly string[];
  /** The columns written, in order; they include the `key` columns. */
  columns: readonly string[];
  /** A record's values for `columns`, in the same order; any other length fails the job with BAD_RECORD. */
  row: (value: T) => readonly unknown[];
  /** Rows per INSERT statement (default 500). */
  batchSize?: number;
  /**
   * Retention by a time column (a TTL column): rows whose `column` is more than `keep`
   * before now (the job's clock) are deleted when the writer opens and then at most once
   * a minute, at checkpoints and at the end. Default: rows are kept.
   *
   * @example
   * postgresSink({ table: 'sessions', key: ['id'], columns: ['id', 'seen_at'], row: (s) => [s.id, new Date(s.at)], retention: { column: 'seen_at', keep: '30d' } })
   */
  retention?: PostgresRowRetention;
  /**
   * The database as a dependency: every write transaction goes through its circuit
   * breaker and bulkhead (see `dependency()`). While the breaker is open a write fails at
   * once with CIRCUIT_OPEN, which fails the job (its restart policy decides what next)
   * instead of waiting on a server that is down; its states show in the metrics and on
   * the dashboard.
   */
  dependency?: Dependency;
}

/** The sink {@link postgresSink} returns: batched upserts, exactly-once by idempotence. */
export interface PostgresSink<T> extends Sink<T> {
  readonly kind: 'postgres';
}

const ident = (name: string): string => sqlIdentifier(name, 'postgresSink');

/**
 * Upserts rows into a PostgreSQL table: `INSERT … ON CONFLICT (key) DO UPDATE`,
 * parameterised, in statements of `batchSize` rows.
 *
 * Guarantee: exactly-once by idempotence, with the checkpoint recorded. At each barrier
 * (`preCommit`) the rows buffered since the last one are written in one transaction
 * together with `UPDATE sluice_sink_checkpoints SET checkpoint_id = $1 WHERE sink = $2`,
 * and committed there. Two-phase commit (PREPARE TRANSACTION at the barrier, COMMIT
 * PREPARED when the checkpoint is durable) needs `max_prepared_transactions > 0`, which
 * is 0 on these machines and takes a server restart to change; so the sink relies on
 * upserts instead: a replay after a restore writes the same rows again and leaves each
 * key as an uninterrupted run leaves it (between the restart and the end of the replay
 * a row can show a newer value than the restored checkpoint's, then converge).
 * Without exactly-once delivery, rows are also written whenever `batchSize` are buffered.
 *
 * @example
 * totals.sinkTo(postgresSink({ table: 'totals', key: ['user_id'], columns: ['user_id', 'total'], row: (t) => [t.key, t.value] }), { uid: 'totals' });
 */
export function postgresSink<T>(opts: PostgresSinkOptions<T>): PostgresSink<T> {
  if (!opts || !Array.isArray(opts.columns) || opts.columns.length === 0 || !Array.isArray(opts.key) || opts.key.length === 0 || typeof opts.row !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'postgresSink: table, key, columns and row are required');
  }
  checkPostgresConnection(opts, 'postgresSink');
  for (const k of opts.key) if (!opts.columns.includes(k)) throw new SluiceError('INVALID_ARGUMENT', `postgresSink: key column ${k} is not among the columns`);
  const table = ident(opts.table);
  const cols = opts.columns.map(ident);
  const keys = opts.key.map(ident);
  const updates = opts.columns.filter((c) => !opts.key.includes(c)).map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`);
  const batchSize = opts.batchSize ?? 500;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new SluiceError('INVALID_ARGUMENT', `postgresSink: batchSize must be a positive integer, got ${batchSize}`);
  const retention = opts.retention === undefined ? undefined : new RowRetention(table, opts.retention, opts.columns);
  const statement = (rows: number): string => {
    const values: string[] = [];
    for (let r = 0; r < rows; r++) values.push(`(${cols.map((_, c) => `$${r * cols.length + c + 1}`).join(', ')})`);
    const onConflict = updates.length > 0 ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';
    return `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (${keys.join(', ')}) ${onConflict}`;
  };
  return {
    kind: 'postgres',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `postgres upserts into ${opts.table} on (${opts.key.join(', ')}), ${batchSize} rows a statement${describeTls(opts.ssl)}`,
    createWriter: (ctx) => new PostgresWriter<T>(opts, ctx, statement, batchSize, retention),
  };
}

class PostgresWriter<T> implements SinkWriter<T> {
  private client: pg.Client | undefined;
  private rows: unknown[][] = [];
  private readonly keyIndexes: number[];
  /** The connection string and password once resolved: kept to hide them in messages. */
  private secrets: string[] = [];

  constructor(
    private readonly opts: PostgresSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly statement: (rows: number) => string,
    private readonly batchSize: number,
    private readonly retention: RowRetention | undefined,
  ) {
    this.keyIndexes = opts.key.map((k) => opts.columns.indexOf(k));
  }

  async open(): Promise<void> {
    this.opts.dependency?.useClock(this.ctx.clock);
    // Loaded on first use, like every connector's client: see `kafka/client.ts`.
    const { default: pgModule } = await loadOptional('pg', 'the PostgreSQL sink', () => import('pg'));
    const who = `postgres sink '${this.ctx.uid}'`;
    const setup = await pgSetup(this.opts, who);
    this.secrets = setup.secrets;
    const client = new pgModule.Client(setup.config);
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (e) {
      // Not awaited: after a refused handshake pg's end() can wait for a socket event that never comes.
      void client.end().catch(() => {});
      throw pgConnectFailure(who, setup, e, 'SINK_FAILED', `failed connecting (${this.opts.table})`, this.ctx.uid);
    }
    try {
      await client.query('CREATE TABLE IF NOT EXISTS sluice_sink_checkpoints (sink text PRIMARY KEY, checkpoint_id bigint NOT NULL)');
      await client.query('INSERT INTO sluice_sink_checkpoints (sink, checkpoint_id) VALUES ($1, 0) ON CONFLICT (sink) DO NOTHING', [this.sinkName]);
      await this.retention?.apply(client, this.ctx.clock.now(), true);
    } catch (e) {
      await client.end().catch(() => {});
      throw this.failed('connecting', e);
    }
    this.client = client;
  }

  private get sinkName(): string {
    return `${this.opts.table}/${this.ctx.uid}`;
  }

  write(values: T[]): Promise<void> | void {
    for (const v of values) {
      const row = this.opts.row(v);
      if (!Array.isArray(row) || row.length !== this.opts.columns.length) {
        throw new SluiceError('BAD_RECORD', `postgres sink '${this.ctx.uid}': row() returned ${Array.isArray(row) ? `${row.length} values` : typeof row}; expected ${this.opts.columns.length} (${this.opts.columns.join(', ')})`, { step: this.ctx.uid });
      }
      this.rows.push(row as unknown[]);
    }
    if (!this.ctx.transactional && this.rows.length >= this.batchSize) return this.writeBuffered();
  }

  /** Writes the buffered rows (and the checkpoint id, when given) in one transaction. */
  private async writeBuffered(checkpointId?: number): Promise<void> {
    // One statement cannot update a row twice (ON CONFLICT): keep the last row per key, as
    // applying them in order would (see postgres.test.ts, 'a newer row for a key replaces').
    const byKey = new Map<string, unknown[]>();
    for (const row of this.rows) {
      const k = JSON.stringify(this.keyIndexes.map((i) => row[i]));
      byKey.delete(k);
      byKey.set(k, row);
    }
    const rows = [...byKey.values()];
    this.rows = [];
    if (rows.length === 0 && checkpointId === undefined) return;
    const d = this.opts.dependency;
    await (d ? d.execute(() => this.transaction(rows, checkpointId)) : this.transaction(rows, checkpointId));
  }

  private async transaction(rows: unknown[][], checkpointId: number | undefined): Promise<void> {
    const c = this.client!;
    try {
      await c.query('BEGIN');
      for (let i = 0; i < rows.length; i += this.batchSize) {
        const chunk = rows.slice(i, i + this.batchSize);
        await c.query(this.statement(chunk.length), chunk.flat());
      }
      if (checkpointId !== undefined) await c.query('UPDATE sluice_sink_checkpoints SET checkpoint_id = $1 WHERE sink = $2', [checkpointId, this.sinkName]);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw this.failed('writing', e);
    }
  }

  /** At a barrier: the rows since the last one and the checkpoint id, committed together (see postgresSink). */
  async preCommit(checkpointId: number): Promise<{ checkpointId: number }> {
    await this.writeBuffered(Math.min(checkpointId, Number.MAX_SAFE_INTEGER));
    await this.expire();
    return { checkpointId };
  }

  /** Deletes the rows past the retention, at most once a minute (see PostgresSinkOptions.retention). */
  private async expire(): Promise<void> {
    try {
      await this.retention?.apply(this.client!, this.ctx.clock.now(), false);
    } catch (e) {
      throw this.failed('deleting rows past the retention', e);
    }
  }

  /** Committed at preCommit already (idempotent upserts). */
  async commit(): Promise<void> {}

  /** Nothing is left open between preCommit and commit, so nothing to finish or abort. */
  async recover(): Promise<void> {}

  async flush(): Promise<void> {
    await this.writeBuffered();
    await this.expire();
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => {});
  }

  private failed(doing: string, e: unknown): SluiceError {
    // pg quotes neither the connection string nor the password, but a server's message could: hide both.
    const reason = scrubSecrets((e as Error)?.message ?? String(e), this.secrets);
    return new SluiceError('SINK_FAILED', `postgres sink '${this.ctx.uid}': failed ${doing} (${this.opts.table}): ${reason}`, { step: this.ctx.uid });
  }
}
