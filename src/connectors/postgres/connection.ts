// Kept apart from the code that loads `pg`, so that the public types do not name the client package's.
import type { Secret } from '../../errors/secret.js';
import type { TlsOptions } from '../../net/tls.js';

/**
 * Where PostgreSQL is and how to connect securely: every PostgreSQL connector and store
 * (sink, time-series sink, lookup, token vault, key store) takes these.
 *
 * TLS comes either from `ssl`, or from libpq-style parameters in the connection string
 * (`?sslmode=verify-full&sslrootcert=/etc/ssl/pg-ca.pem&sslcert=…&sslkey=…`); when the
 * string has them, they win. Secrets may be given by reference (`{ env }`, `{ file }`),
 * read when the connector opens and never shown.
 *
 * @example
 * postgresSink({ connectionString: 'postgres://app@db.internal:5432/shop', password: { env: 'PGPASSWORD' }, ssl: { ca: '/etc/ssl/db-ca.pem' }, table, key, columns, row });
 * // client-certificate authentication (pg_hba `cert`): the certificate's CN is the user
 * postgresLookup({ connectionString: 'postgres://app@db:5432/shop', ssl: { ca: '/etc/ssl/db-ca.pem', cert: '/etc/ssl/app.pem', key: { file: '/run/secrets/app.key' } }, table, keyColumn });
 */
export interface PostgresConnectionOptions {
  /**
   * Connection string (default `postgres://postgres@127.0.0.1:5432/postgres`). One holding a
   * password may be given by reference: `{ env: 'DATABASE_URL' }`, `{ file: '/run/secrets/pg' }`.
   */
  connectionString?: Secret;
  /** The password, when not in the connection string (it replaces one there). */
  password?: Secret;
  /**
   * TLS: `true` (verify against the system's CAs) or {@link TlsOptions} (a private
   * CA; a client certificate for `cert` authentication). Verification includes the host name.
   */
  ssl?: boolean | TlsOptions;
  /** How long connecting may take before the connector fails (default 10 s). */
  connectTimeoutMs?: number;
}
