import type pg from 'pg';
import { SluiceError } from '../../errors/index.js';
import { loadOptional } from '../shared/optional-client.js';
import { pgConnectFailure, pgSetup } from './client-config.js';
import type { PostgresConnectionOptions } from './connection.js';

/** Opens a PostgreSQL pool for a vault or key store; a failure names what it was for, never the password. */
export async function connectPostgres(opts: PostgresConnectionOptions, what: string): Promise<pg.Pool> {
  const setup = await pgSetup(opts, what);
  const { default: pgModule } = await loadOptional('pg', what, () => import('pg'));
  const pool = new pgModule.Pool({ ...setup.config, max: 4 });
  pool.on('error', () => {});
  try {
    (await pool.connect()).release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw pgConnectFailure(what, setup, e, 'SINK_FAILED', 'cannot connect to PostgreSQL');
  }
  return pool;
}

/** A table name as an SQL identifier (letters, digits, underscores, an optional schema). */
export function checkTable(table: string, what: string): string {
  if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)?$/.test(table)) throw new SluiceError('PRIVACY_CONFIG_INVALID', `${what}: the table must be a plain SQL name, got ${JSON.stringify(table)}`);
  return table;
}
