// Kept apart from `client.ts` so that the public types do not name the client package's.

/** Where NATS is (default `127.0.0.1:4222`). JetStream must be enabled (`nats-server -js`). */
export interface NatsConnectionOptions {
  /** The servers to connect to, `'host:port'`: one or several of the same cluster. */
  servers?: string | string[];
}
