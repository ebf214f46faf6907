import type pg from 'pg';
import { SluiceError } from '../../errors/index.js';
import { scrubSecrets } from '../../errors/secret.js';
import type { Lookup } from '../lookup.js';
import { loadOptional } from '../shared/optional-client.js';
import { sqlIdentifier } from './identifier.js';
import { checkPostgresConnection, pgConnectFailure, pgSetup, type PgSetup } from './client-config.js';
import type { PostgresConnectionOptions } from './connection.js';

/** Options of {@link postgresLookup}: which table, which key column, and how a row becomes a value. */
export interface PostgresLookupOptions<V> extends PostgresConnectionOptions {
  /** The table (or view), optionally schema-qualified: `users`, `crm.users`. */
  table: string;
  /** The column a lookup key is compared with. */
  keyColumn: string;
  /** The columns read (default all). */
  columns?: readonly string[];
  /** Turns a row into the lookup's value (default: the row object, column name → value). */
  value?: (row: Record<string, unknown>) => V;
  /** Names the lookup in errors and metrics (default the table). */
  name?: string;
  /** Keys per query (default 500). */
  maxBatch?: number;
  /** Connections of the pool (default 4): batches of different subtasks are asked side by side. */
  poolSize?: number;
}

/**
 * A {@link Lookup} over a PostgreSQL table for `lookupJoin`: the keys of a batch are read
 * with one `SELECT … WHERE key = ANY($1)` (a missing key is a miss). Keys are compared as
 * the key column's type (PostgreSQL casts the parameter array to it). It connects a small
 * pool on the first lookup; `close()` ends it.
 *
 * @example
 * const users = postgresLookup<User>({ table: 'users', keyColumn: 'id', columns: ['id', 'country'], value: (r) => r as User });
 * lookupJoin(clicks, users, { uid: 'users', key: (c) => c.user, join: (c, u) => ({ ...c, country: u?.country }), onMiss: 'null' });
 */
export function postgresLookup<V = Record<string, unknown>>(options: PostgresLookupOptions<V>): Lookup<string | number, V> {
  const table = sqlIdentifier(options.table, 'postgresLookup table');
  const key = sqlIdentifier(options.keyColumn, 'postgresLookup keyColumn');
  const columns = options.columns === undefined ? '*' : options.columns.map((c) => sqlIdentifier(c, 'postgresLookup column')).join(', ');
  // The key column again under a name of our own, so that a row is matched to its key whatever columns are read.
  const sql = `SELECT ${columns}, ${key}::text AS "sluice$key" FROM ${table} WHERE ${key} = ANY($1)`;
  const name = options.name ?? options.table;
  const who = `postgresLookup '${name}'`;
  checkPostgresConnection(options, who);
  const value = options.value ?? ((row) => row as V);
  let pool: Promise<pg.Pool> | undefined;
  let setup: PgSetup | undefined;
  // A server's message could quote the connection string: hide it (and no raw cause, which may hold it).
  // The pool connects at its first query: a refused password or certificate shows there, as CONNECTOR_AUTH.
  const failed = (doing: string, e: unknown) =>
    setup ? pgConnectFailure(who, setup, e, 'LOOKUP_FAILED', `${doing} failed`) : new SluiceError('LOOKUP_FAILED', `${who}: ${doing} failed: ${scrubSecrets((e as Error)?.message ?? String(e), [])}`);
  return {
    name,
    maxBatch: options.maxBatch ?? 500,
    async get(keys) {
      pool ??= (async () => {
        setup = await pgSetup(options, who);
        const { default: pgModule } = await loadOptional('pg', 'postgresLookup', () => import('pg'));
        const p = new pgModule.Pool({ ...setup.config, max: options.poolSize ?? 4 });
        p.on('error', () => {}); // an idle client's error: the next query reports it
        return p;
      })();
      let rows: Record<string, unknown>[];
      try {
        rows = (await (await pool).query(sql, [keys.map(String)])).rows as Record<string, unknown>[];
      } catch (e) {
        throw failed(`reading ${keys.length} key(s) from ${options.table}`, e);
      }
      const byKey = new Map<string, V>();
      for (const row of rows) {
        const k = row['sluice$key'] as string;
        delete row['sluice$key'];
        byKey.set(k, value(row));
      }
      return keys.map((k) => byKey.get(String(k)));
    },
    async close() {
      const p = pool;
      pool = undefined;
      if (p) await (await p).end().catch(() => {});
    },
  };
}
