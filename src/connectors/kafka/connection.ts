// Kept apart from `client.ts` so that the public types (the source's and sink's options)
// name no type of the Kafka client package.
import type { Secret } from '../../errors/secret.js';
import type { TlsOptions } from '../../net/tls.js';

/** A SASL mechanism the Kafka connectors speak. */
export type KafkaSaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';

/**
 * SASL authentication to the brokers (Kafka's `SASL_SSL` with `tls`, `SASL_PLAINTEXT`
 * without). PLAIN and SCRAM take `username` and `password`; OAUTHBEARER takes `token` (a
 * JWT the brokers accept). Secrets may be references (`{ env }`, `{ file }`), read when
 * the connector opens; they never appear in errors, `explain()` or the REST views.
 *
 * @example
 * kafkaSource({ brokers: 'kafka:9094', topic: 't', groupId: 'g', tls: { ca: '/etc/kafka/ca.pem' },
 *   sasl: { mechanism: 'SCRAM-SHA-512', username: 'app', password: { env: 'KAFKA_PASSWORD' } } });
 */
export interface KafkaSaslOptions {
  mechanism: KafkaSaslMechanism;
  /** The user (PLAIN, SCRAM). */
  username?: Secret;
  /** The password (PLAIN, SCRAM). */
  password?: Secret;
  /** The bearer token (OAUTHBEARER). */
  token?: Secret;
}

/**
 * Where the Kafka brokers are and how to reach them: what every Kafka client Sluice makes
 * (source, sink, topic admin, cluster members) is given. Turned into the client's options
 * by `kafkaClientOptions` (`client.ts`).
 */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers, `'host:port'` (an array or a comma-separated string). */
  brokers: string | readonly string[];
  /**
   * TLS to the brokers (Kafka's `SSL` listeners, or `SASL_SSL` with {@link sasl}): `true`
   * trusts the system's CAs; an object gives the CA, a client certificate for mutual TLS,
   * a server name. Default: plaintext.
   */
  tls?: TlsOptions | boolean;
  /** SASL authentication (see {@link KafkaSaslOptions}). Default: none. */
  sasl?: KafkaSaslOptions;
}
