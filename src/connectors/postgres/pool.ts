import type pg from 'pg';
import { resolveSecret, scrubSecrets, type Secret } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import { loadOptional } from '../shared/optional-client.js';

/** Opens a PostgreSQL pool for a vault or key store; a failure names what it was for, never the password. */
export async function connectPostgres(connectionString: Secret | undefined, what: string): Promise<pg.Pool> {
  const cs = await resolveSecret(connectionString ?? 'postgres://postgres@127.0.0.1:5432/postgres', `${what}: connectionString`);
  const { default: pgModule } = await loadOptional('pg', what, () => import('pg'));
  const pool = new pgModule.Pool({ connectionString: cs, max: 4 });
  pool.on('error', () => {});
  try {
    (await pool.connect()).release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new SluiceError('SINK_FAILED', `${what}: cannot connect to PostgreSQL: ${scrubSecrets((e as Error).message, [cs])}`, { hint: 'Start PostgreSQL (scripts/services.sh) or fix connectionString.' });
  }
  return pool;
}

/** A table name as an SQL identifier (letters, digits, underscores, an optional schema). */
export function checkTable(table: string, what: string): string {
  if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)?$/.test(table)) throw new SluiceError('PRIVACY_CONFIG_INVALID', `${what}: the table must be a plain SQL name, got ${JSON.stringify(table)}`);
  return table;
}
