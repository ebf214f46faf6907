import type { Redis } from 'ioredis';
import { resolveSecret, scrubSecrets } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { RedisConnection } from './connection.js';
import { loadOptional } from '../shared/optional-client.js';
import { checkTlsOptions, clientTls } from '../../net/tls.js';
import { authFailure, urlPlace } from '../shared/tls-error.js';

/** Checks the connection options when the connector is built (INVALID_ARGUMENT naming the field, never a value). */
export function checkRedisConnection(conn: RedisConnection, who: string): void {
  checkTlsOptions(conn.tls, who);
  if (conn.username !== undefined && (typeof conn.username !== 'string' || conn.username === '')) throw new SluiceError('INVALID_ARGUMENT', `${who}: username must be a non-empty string`);
  if (conn.username !== undefined && conn.password === undefined) throw new SluiceError('INVALID_ARGUMENT', `${who}: username needs a password`);
  const t = conn.connectTimeoutMs;
  if (t !== undefined && (!Number.isFinite(t) || t <= 0)) throw new SluiceError('INVALID_ARGUMENT', `${who}: connectTimeoutMs must be a positive number, got ${t}`);
}

/**
 * Connects (lazily) and waits until the connection is ready. A refused password or a
 * certificate that does not verify is CONNECTOR_AUTH; anything else SOURCE_FAILED or SINK_FAILED.
 */
export async function connectRedis(conn: RedisConnection, step: string, side: 'source' | 'sink' | 'lookup'): Promise<Redis> {
  const who = `redis ${side} '${step}'`;
  const url = await resolveSecret(conn.url ?? 'redis://127.0.0.1:6379', `${who}: url`);
  const password = conn.password === undefined ? undefined : await resolveSecret(conn.password, `${who}: password`);
  const tls = clientTls(conn.tls, who);
  // Loaded on first use, like every connector's client: see `kafka/client.ts`.
  const { Redis } = await loadOptional('ioredis', 'the Redis connectors', () => import('ioredis'));
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: false,
    connectTimeout: conn.connectTimeoutMs ?? 10_000,
    ...(conn.username === undefined ? {} : { username: conn.username }),
    ...(password === undefined ? {} : { password }),
    ...(tls ? { tls } : {}),
  });
  // ioredis rejects connect() with "Connection is closed."; what went wrong came as an error event.
  let cause: unknown;
  client.on('error', (e) => (cause = e)); // later ones surface through the commands that fail
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    const secrets = password === undefined ? [url] : [url, password];
    throw (
      authFailure(who, urlPlace(url), cause ?? e, secrets, step) ??
      new SluiceError(side === 'sink' ? 'SINK_FAILED' : 'SOURCE_FAILED', `${who}: cannot connect to ${scrubSecrets(`${url}: ${((cause ?? e) as Error).message}`, secrets)}`, {
        hint: 'Start Redis (scripts/services.sh) or fix the url.',
        step,
      })
    );
  }
  return client;
}

/** Redis stream ids compare as (ms, seq) pairs. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const d = BigInt(am!) - BigInt(bm!);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}
