import type pg from 'pg';
import type { PostgresConnectionOptions } from './connection.js';
import { checkTable, connectPostgres } from './pool.js';
import { TokenVault, type TokenVaultOptions } from '../../privacy/token-vault.js';

/** Options of {@link PostgresTokenVault}. */
export interface PostgresTokenVaultOptions extends TokenVaultOptions, PostgresConnectionOptions {
  /** The table of token → value, created if missing (default `sluice_token_vault`). */
  table?: string;
}

/**
 * A {@link TokenVault} in a PostgreSQL table (`token text PRIMARY KEY, value text`).
 *
 * @example
 * import { PostgresTokenVault } from 'sluice/postgres';
 * const vault = new PostgresTokenVault({ connectionString: { env: 'DATABASE_URL' }, key: { file: '/run/secrets/token-key' } });
 * users.asyncMap(tokenize(['email'], vault), { uid: 'tokenize' });
 */
export class PostgresTokenVault extends TokenVault {
  private pool: Promise<pg.Pool> | undefined;
  private readonly table: string;

  constructor(private readonly opts: PostgresTokenVaultOptions) {
    super(opts);
    this.table = checkTable(opts.table ?? 'sluice_token_vault', 'PostgresTokenVault');
  }

  private db(): Promise<pg.Pool> {
    this.pool ??= connectPostgres(this.opts, 'postgres token vault').then(async (pool) => {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${this.table} (token text PRIMARY KEY, value text NOT NULL)`);
      return pool;
    });
    this.pool.catch(() => (this.pool = undefined));
    return this.pool;
  }

  protected async store(pairs: ReadonlyArray<readonly [string, string]>): Promise<void> {
    await (await this.db()).query(`INSERT INTO ${this.table} (token, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (token) DO NOTHING`, [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
  }

  protected async lookup(tokens: readonly string[]): Promise<Array<string | undefined>> {
    const { rows } = await (await this.db()).query<{ token: string; value: string }>(`SELECT token, value FROM ${this.table} WHERE token = ANY($1::text[])`, [tokens]);
    const byToken = new Map(rows.map((r) => [r.token, r.value]));
    return tokens.map((t) => byToken.get(t));
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await (await p.catch(() => undefined))?.end();
  }
}
