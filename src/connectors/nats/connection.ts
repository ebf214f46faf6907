// Kept apart from `client.ts` so that the public types do not name the client package's.
import type { Secret } from '../../errors/secret.js';
import type { TlsOptions } from '../../net/tls.js';

/**
 * Where NATS is (default `127.0.0.1:4222`), and how to connect securely. JetStream must be
 * enabled (`nats-server -js`). Give at most one way to authenticate: `user` and
 * `password`, `token`, `nkeySeed`, or `credentials`. Every secret may be given by
 * reference (`{ env: 'NATS_PASSWORD' }`, `{ file: '/run/secrets/nats.creds' }`), read when
 * the connector opens and never shown.
 *
 * @example
 * natsSource({ servers: 'nats.internal:4222', tls: { ca: '/etc/ssl/nats-ca.pem' }, user: 'sluice', password: { env: 'NATS_PASSWORD' }, stream: 'orders', durable: 'sluice', format: jsonFormat<Order>() });
 */
export interface NatsConnectionOptions {
  /**
   * The servers to connect to, `'host:port'`: one or several of the same cluster. A URL
   * with credentials (`nats://user:pass@host:4222`) may be given by reference: `{ env: 'NATS_URL' }`.
   */
  servers?: Secret | Secret[];
  /**
   * TLS: `true` (the system's CAs) or {@link TlsOptions} (a private CA, a client
   * certificate). Without it the connection upgrades to TLS only when the server requires it.
   */
  tls?: boolean | TlsOptions;
  /** The user name, with `password`. */
  user?: string;
  /** The password of `user`. */
  password?: Secret;
  /** An authentication token (`authorization { token }` on the server). */
  token?: Secret;
  /** An NKEY user's seed (`SU…`), as text or by reference to the file or variable holding it. */
  nkeySeed?: Secret;
  /** A credentials file's contents (a user JWT and its NKEY seed, from `nsc`), or its path as `{ file: '…/user.creds' }`. */
  credentials?: Secret;
  /** How long connecting may take before the source or sink fails (default 10 s). */
  connectTimeoutMs?: number;
}
