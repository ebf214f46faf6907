// Kept apart from `client.ts` so that the public types do not name the client package's.
import type { Secret } from '../../errors/secret.js';
import type { TlsOptions } from '../../net/tls.js';

/**
 * Where Redis is: a `redis://` URL (default `redis://127.0.0.1:6379`), `rediss://` for TLS;
 * and how to authenticate (an ACL user and its password). Secrets may be given by
 * reference (`{ env: 'REDIS_PASSWORD' }`), read when the connector opens and never shown.
 *
 * @example
 * redisSink({ url: 'rediss://cache.internal:6380', tls: { ca: '/etc/ssl/cache-ca.pem' }, username: 'sluice', password: { env: 'REDIS_PASSWORD' }, target });
 */
export interface RedisConnection {
  /** A URL holding a password may be given by reference: `{ env: 'REDIS_URL' }`, `{ file: '/run/secrets/redis-url' }`. */
  url?: Secret;
  /**
   * TLS: `true` (the system's CAs) or {@link TlsOptions} (a private CA, a client
   * certificate). A `rediss://` URL alone means TLS with the system's CAs.
   */
  tls?: boolean | TlsOptions;
  /** The ACL user (Redis 6+), when not in the URL. */
  username?: string;
  /** The password (of `username`, or of the `default` user), when not in the URL. */
  password?: Secret;
  /** How long connecting may take before the connector fails (default 10 s). */
  connectTimeoutMs?: number;
}
