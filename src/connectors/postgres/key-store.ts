import type pg from 'pg';
import type { PostgresConnectionOptions } from './connection.js';
import type { KeyStore } from '../../privacy/key-store.js';
import { checkTable, connectPostgres } from './pool.js';

/** Options of {@link PostgresKeyStore}. */
export interface PostgresKeyStoreOptions extends PostgresConnectionOptions {
  /** The table, created if missing (default `sluice_subject_keys`). */
  table?: string;
}

/**
 * A {@link KeyStore} in a PostgreSQL table (`subject text PRIMARY KEY, wrapped bytea`),
 * shared by every process of a deployment. A deleted row is gone for good (no soft
 * delete): that is what makes `SubjectKeys.forget` crypto-shredding.
 *
 * @example
 * import { PostgresKeyStore } from 'sluice/postgres';
 * const keys = new SubjectKeys({ store: new PostgresKeyStore({ connectionString: { env: 'DATABASE_URL' } }), masterKey: { env: 'SLUICE_MASTER_KEY' } });
 */
export class PostgresKeyStore implements KeyStore {
  private pool: Promise<pg.Pool> | undefined;
  private readonly table: string;

  constructor(private readonly opts: PostgresKeyStoreOptions = {}) {
    this.table = checkTable(opts.table ?? 'sluice_subject_keys', 'PostgresKeyStore');
  }

  private db(): Promise<pg.Pool> {
    this.pool ??= connectPostgres(this.opts, 'postgres key store').then(async (pool) => {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${this.table} (subject text PRIMARY KEY, wrapped bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
      return pool;
    });
    this.pool.catch(() => (this.pool = undefined));
    return this.pool;
  }

  async get(subject: string): Promise<Buffer | undefined> {
    const { rows } = await (await this.db()).query<{ wrapped: Buffer }>(`SELECT wrapped FROM ${this.table} WHERE subject = $1`, [subject]);
    return rows[0]?.wrapped;
  }

  async create(subject: string, wrapped: Buffer): Promise<Buffer> {
    const db = await this.db();
    await db.query(`INSERT INTO ${this.table} (subject, wrapped) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING`, [subject, wrapped]);
    return (await this.get(subject)) ?? wrapped;
  }

  async delete(subject: string): Promise<boolean> {
    const { rowCount } = await (await this.db()).query(`DELETE FROM ${this.table} WHERE subject = $1`, [subject]);
    return (rowCount ?? 0) > 0;
  }

  /** Ends the store's pool. */
  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await (await p.catch(() => undefined))?.end();
  }
}
