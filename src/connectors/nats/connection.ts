// Kept apart from `client.ts` so that the public types do not name the client package's.
import type { Secret } from '../../errors/secret.js';

/** Where NATS is (default `127.0.0.1:4222`). JetStream must be enabled (`nats-server -js`). */
export interface NatsConnectionOptions {
  /**
   * The servers to connect to, `'host:port'`: one or several of the same cluster. A URL
   * with credentials (`nats://user:pass@host:4222`) may be given by reference: `{ env: 'NATS_URL' }`.
   */
  servers?: Secret | Secret[];
}
