// Kept apart from `client.ts` so that the public types do not name the client package's.

/** Where RabbitMQ is (default `amqp://guest:guest@127.0.0.1:5672`). */
export interface RabbitmqConnectionOptions {
  /** The AMQP 0-9-1 URL, `amqp://user:password@host:port/vhost` (`amqps://` for TLS). */
  url?: string;
}
