import { connect, type ConnectionOptions } from 'node:tls';
import { SluiceError } from '../../errors/index.js';
import { resolveSecret, type Secret } from '../../errors/secret.js';
import { loadOptional } from '../shared/optional-client.js';
import { clientTls, errorsWithin, tlsFailure } from '../../net/tls.js';
import type { KafkaConnectionOptions, KafkaSaslMechanism, KafkaSaslOptions } from './connection.js';
import { brokerList } from './format.js';
import { errorText } from './outage.js';
import { readCommittedConsumer } from './read-committed.js';

/** The Kafka client library, as a module. */
export type KafkaClient = typeof import('@platformatic/kafka');

let loading: Promise<KafkaClient> | undefined;

/**
 * Loads the Kafka client on first use. Importing it takes ~0.4 s of CPU here, which
 * every `import 'sluice'` (and every worker thread of a parallel run) would otherwise
 * pay whether or not the job reads or writes Kafka.
 */
export function loadKafkaClient(): Promise<KafkaClient> {
  // Its consumers with `read_committed` fixed (`read-committed.ts`): every reader Sluice makes comes from here.
  return (loading ??= loadOptional('@platformatic/kafka', 'the Kafka connectors', () => import('@platformatic/kafka')).then((kafka) => ({ ...kafka, Consumer: readCommittedConsumer(kafka.Consumer) })));
}

/** Closes a consumer or producer, ignoring errors (it may be closing because it failed). Not an `Admin`: its `close` takes a callback, and `true` would be called. */
export async function closeQuietly(client: { close(force?: boolean): Promise<void> }): Promise<void> {
  try {
    await client.close(true);
  } catch {
    // already failed or closed
  }
}

/** Closes what a reader reads with, its message stream and then its consumer, ignoring errors (a reader's `close`). */
export async function closeReading(stream: { close(): Promise<void> } | undefined, consumer: { close(force?: boolean): Promise<void> } | undefined): Promise<void> {
  await stream?.close().catch(() => {});
  if (consumer) await closeQuietly(consumer);
}

/** The connection part of every Kafka client's options: brokers, TLS and SASL, secrets read. */
export interface KafkaClientConnection {
  bootstrapBrokers: string[];
  tls?: ConnectionOptions;
  sasl?: { mechanism: KafkaSaslMechanism; username?: string; password?: string; token?: string };
}

const MECHANISMS: readonly KafkaSaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

/** Checks a connector's `sasl` option when it is built (secrets are read at open). */
export function checkSaslOptions(sasl: KafkaSaslOptions | undefined, where: string): void {
  if (sasl === undefined) return;
  if (typeof sasl !== 'object' || sasl === null || !MECHANISMS.includes(sasl.mechanism)) {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: sasl.mechanism must be one of ${MECHANISMS.join(', ')}, got ${JSON.stringify((sasl as { mechanism?: unknown } | null)?.mechanism)}`);
  }
  if (sasl.mechanism === 'OAUTHBEARER' ? sasl.token === undefined : sasl.username === undefined || sasl.password === undefined) {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: sasl ${sasl.mechanism} needs ${sasl.mechanism === 'OAUTHBEARER' ? 'a token' : 'a username and a password'}`);
  }
}

/**
 * The client options of a connector's connection options (brokers, `tls`, `sasl`), its
 * certificate files and secrets read now: spread them into every `Consumer`, `Producer`,
 * `Admin` or `ConnectionPool` the connector makes, so that none of them speaks plaintext
 * by mistake. `where` names the connector in errors.
 *
 * @example
 * const conn = await kafkaClientOptions(options, "step 'in' (kafka source, topic t)");
 * const consumer = new kafka.Consumer({ clientId, groupId, ...conn });
 */
export async function kafkaClientOptions(options: KafkaConnectionOptions, where: string): Promise<KafkaClientConnection> {
  checkSaslOptions(options.sasl, where);
  const out: KafkaClientConnection = { bootstrapBrokers: brokerList(options.brokers, where) };
  const tls = clientTls(options.tls, where);
  if (tls) out.tls = tls;
  const sasl = options.sasl;
  if (sasl) {
    const read = (s: Secret | undefined, what: string) => (s === undefined ? undefined : resolveSecret(s, `${where} sasl.${what}`));
    const [username, password, token] = await Promise.all([read(sasl.username, 'username'), read(sasl.password, 'password'), read(sasl.token, 'token')]);
    out.sasl = { mechanism: sasl.mechanism, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }), ...(token === undefined ? {} : { token }) };
  }
  return out;
}

/** How long {@link checkKafkaAccess} waits for a broker to connect and answer. */
const ACCESS_CHECK_TIMEOUT_MS = 10_000;

/**
 * Connects once to the brokers, with the connector's TLS and SASL, and lists the topics:
 * a certificate the client does not trust (unknown CA, wrong host, expired), a handshake
 * the broker refuses or credentials it rejects fail here at once with CONNECTOR_TLS or
 * CONNECTOR_AUTH naming the connector. Without this check the client would retry such a
 * connection for the whole `brokerUnavailableTimeout` (it takes any failed connection for
 * a network error) and end with BROKER_UNAVAILABLE. A broker that is merely away is not
 * this check's business: it returns, and the connector rides the outage out.
 */
export async function checkKafkaAccess(kafka: KafkaClient, conn: KafkaClientConnection, where: string, step?: string): Promise<void> {
  if (!conn.tls && !conn.sasl) return;
  if (conn.tls) {
    const failure = await probeTls(conn, where, step);
    if (failure) throw failure;
  }
  const admin = new kafka.Admin({ clientId: 'sluice-access-check', ...conn, retries: 0, connectTimeout: ACCESS_CHECK_TIMEOUT_MS, timeout: ACCESS_CHECK_TIMEOUT_MS });
  try {
    // A real request: with TLS 1.3 a broker refuses a missing client certificate only after the handshake, on the first request.
    await admin.listTopics();
  } catch (e) {
    const failure = accessFailure(e, where, conn.bootstrapBrokers.join(','), step);
    if (failure) throw failure;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The CONNECTOR_TLS or CONNECTOR_AUTH error a client failure stands for, if it is one (the password is never in it). */
export function accessFailure(e: unknown, where: string, brokers: string, step?: string): SluiceError | undefined {
  const tls = tlsFailure(e, where, `Kafka broker ${brokers}`, step);
  if (tls) return tls;
  const auth = [...errorsWithin(e)].find((x) => x.code === 'PLT_KFK_AUTHENTICATION');
  if (auth) {
    const mechanism = typeof auth.message === 'string' && /suitable SASL mechanism/.test(auth.message) ? 'the broker does not enable this SASL mechanism on that listener' : 'the broker refused the credentials (wrong user name or password, or an invalid token)';
    return new SluiceError('CONNECTOR_AUTH', `${where}: SASL authentication to Kafka broker ${brokers} failed: ${mechanism}`, { step, cause: e, detail: errorText(e) });
  }
  return undefined;
}

/** An ApiVersions v0 request (correlation id 1, no client id): any broker answers it before authentication. */
const API_VERSIONS = Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff]);

/**
 * A TLS handshake with the first bootstrap broker and one request over it, on a socket of
 * our own: the client library reports a broker's refusal of a missing client certificate
 * (which TLS 1.3 sends after the handshake, as an alert) only as "Connection closed".
 * Returns the CONNECTOR_TLS error, or undefined when the broker answered or is not there.
 */
function probeTls(conn: KafkaClientConnection, where: string, step: string | undefined): Promise<SluiceError | undefined> {
  const broker = conn.bootstrapBrokers[0]!;
  const host = broker.slice(0, broker.lastIndexOf(':'));
  const port = Number(broker.slice(broker.lastIndexOf(':') + 1));
  return new Promise((resolve) => {
    const socket = connect({ ...conn.tls, host, port, timeout: ACCESS_CHECK_TIMEOUT_MS });
    const done = (failure: SluiceError | undefined) => {
      socket.destroy();
      resolve(failure);
    };
    socket.once('secureConnect', () => socket.write(API_VERSIONS));
    socket.once('data', () => done(undefined));
    socket.once('timeout', () => done(undefined));
    socket.once('close', () => done(undefined));
    socket.once('error', (e) => done(tlsFailure(e, where, `Kafka broker ${broker}`, step)));
  });
}
