import type pg from 'pg';
import { SluiceError, type ErrorCode } from '../../errors/index.js';
import { resolveSecret, scrubSecrets } from '../../errors/secret.js';
import { checkTlsOptions, clientTls } from '../../net/tls.js';
import { authFailure } from '../shared/tls-error.js';
import type { PostgresConnectionOptions } from './connection.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A `pg` client configuration, with what messages must hide and may name. */
export interface PgSetup {
  readonly config: pg.ClientConfig;
  /** The resolved connection string and password: scrubbed from every message. */
  readonly secrets: string[];
  /** Host and port (or the connection string's place, redacted), for messages. */
  readonly target: string;
}

/** Checks the connection options when the connector is built (INVALID_ARGUMENT naming the field, never a value). */
export function checkPostgresConnection(opts: PostgresConnectionOptions, who: string): void {
  checkTlsOptions(opts.ssl, who);
  const t = opts.connectTimeoutMs;
  if (t !== undefined && (!Number.isFinite(t) || t <= 0)) throw new SluiceError('INVALID_ARGUMENT', `${who}: connectTimeoutMs must be a positive number, got ${t}`);
}

/** Resolves the options into a `pg` configuration when the connector opens. */
export async function pgSetup(opts: PostgresConnectionOptions, who: string): Promise<PgSetup> {
  let connectionString = await resolveSecret(opts.connectionString ?? DEFAULT_URL, `${who}: connectionString`);
  const secrets = [connectionString];
  if (opts.password !== undefined) {
    const password = await resolveSecret(opts.password, `${who}: password`);
    secrets.push(password);
    // pg lets the connection string's fields override the configuration's, an absent password
    // included: the password goes into the string.
    connectionString = withPassword(connectionString, password, who);
    secrets.push(connectionString);
  }
  const config: pg.ClientConfig = { connectionString, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000 };
  const tls = clientTls(opts.ssl, who);
  if (tls) config.ssl = tls;
  return { config, secrets, target: targetOf(connectionString) };
}

function withPassword(connectionString: string, password: string, who: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new SluiceError('INVALID_ARGUMENT', `${who}: a separate password needs a postgres:// URL as connectionString`);
  }
  url.password = encodeURIComponent(password);
  return url.toString();
}

function targetOf(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    return `${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(the connection string)';
  }
}

/**
 * The error for a failed connect: CONNECTOR_AUTH when the server refused the credentials
 * or a certificate did not verify, else `code` (SINK_FAILED, LOOKUP_FAILED, …) with `text`.
 */
export function pgConnectFailure(who: string, setup: PgSetup, e: unknown, code: ErrorCode, text: string, step?: string): SluiceError {
  return (
    authFailure(who, setup.target, e, setup.secrets, step) ??
    new SluiceError(code, `${who}: ${text}: ${scrubSecrets((e as Error)?.message ?? String(e), setup.secrets)}`, step === undefined ? {} : { step })
  );
}
