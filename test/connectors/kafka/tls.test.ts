import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { kafkaSink, kafkaSource } from '../../../src/connectors/kafka/index.js';
import type { KafkaConnectionOptions } from '../../../src/connectors/kafka/connection.js';
import { SluiceError } from '../../../src/errors/index.js';
import { readAll, testSinkContext, testSourceContext } from '../../../src/testing/index.js';
import { CERTS, PASSWORD, PORTS, USER, goodConnections, startTlsBroker } from './tls-broker.js';

// Issue 17: the Kafka connectors over TLS, mutual TLS and SASL_SSL against a real broker
// (scripts/kafka/start-tls.sh), and a clear error, soon, for each way it can go wrong.

beforeAll(() => startTlsBroker(), 600_000);

/** Writes `n` records through a kafkaSink (creating the topic) and reads them back with a bounded kafkaSource, both over `conn`. */
async function roundTrip(conn: KafkaConnectionOptions, n: number): Promise<number[]> {
  const topic = `t-tls-${randomUUID().slice(0, 8)}`;
  const writer = kafkaSink<{ i: number }>({ ...conn, topic, createTopic: { partitions: 2 } }).createWriter(testSinkContext({ uid: 'out' }));
  await writer.open!();
  await writer.write(
    Array.from({ length: n }, (_, i) => ({ i })),
    Array.from({ length: n }, () => 0),
  );
  await writer.flush!();
  await writer.close();
  const read = await readAll(kafkaSource<{ i: number }>({ ...conn, topic, groupId: `g-${topic}`, startFrom: 'earliest', bounded: true }), testSourceContext({ uid: 'in' }));
  return read.values.map((v) => v.i).sort((a, b) => a - b);
}

describe('kafka connectors over TLS and SASL', () => {
  it.each(goodConnections())('%s: what the sink writes, the source reads', async (_what, conn) => {
    expect(await roundTrip(conn, 200)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  }, 60_000);

  it('takes the password and the CA from secret references', async () => {
    process.env.SLUICE_TEST_KAFKA_PASSWORD = PASSWORD;
    const conn: KafkaConnectionOptions = { brokers: `127.0.0.1:${PORTS.saslSsl}`, tls: { ca: { file: `${CERTS}/ca.pem` } }, sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: { env: 'SLUICE_TEST_KAFKA_PASSWORD' } } };
    expect(await roundTrip(conn, 10)).toHaveLength(10);
  }, 60_000);
});

/** Opens a source reader over `conn` and returns what it threw, with how long it took. */
async function openFailure(conn: KafkaConnectionOptions, side: 'source' | 'sink'): Promise<{ error: SluiceError; ms: number }> {
  const started = Date.now();
  const reader =
    side === 'source' ? kafkaSource({ ...conn, topic: 'never-read', groupId: 'g-never' }).createReader(testSourceContext({ uid: 'in' })) : kafkaSink({ ...conn, topic: 'never-written' }).createWriter(testSinkContext({ uid: 'out' }));
  try {
    await reader.open!();
  } catch (e) {
    return { error: e as SluiceError, ms: Date.now() - started };
  } finally {
    await reader.close();
  }
  throw new Error('the connector opened');
}

describe('a bad certificate or password fails the connector at open, clearly, without retrying', () => {
  const ca = `${CERTS}/ca.pem`;
  const cases: Array<[string, 'source' | 'sink', KafkaConnectionOptions, string, RegExp]> = [
    ['a wrong password (SCRAM)', 'source', { brokers: `127.0.0.1:${PORTS.saslSsl}`, tls: { ca }, sasl: { mechanism: 'SCRAM-SHA-256', username: USER, password: 'not-the-password' } }, 'CONNECTOR_AUTH', /kafka source.*SASL authentication to Kafka broker 127\.0\.0\.1:19195 failed: the broker refused the credentials/],
    ['a wrong password (PLAIN)', 'sink', { brokers: `127.0.0.1:${PORTS.saslSsl}`, tls: { ca }, sasl: { mechanism: 'PLAIN', username: USER, password: 'not-the-password' } }, 'CONNECTOR_AUTH', /kafka sink.*refused the credentials/],
    ['an unknown CA', 'source', { brokers: `127.0.0.1:${PORTS.saslSsl}`, tls: { ca: `${CERTS}/other-ca.pem` }, sasl: { mechanism: 'PLAIN', username: USER, password: PASSWORD } }, 'CONNECTOR_TLS', /kafka source.*TLS to Kafka broker 127\.0\.0\.1:19195 failed: .*unknown CA/],
    ['a wrong host name', 'sink', { brokers: `127.0.0.1:${PORTS.wrongHost}`, tls: { ca } }, 'CONNECTOR_TLS', /kafka sink.*certificate is for another host name/],
    ['an expired certificate', 'source', { brokers: `127.0.0.1:${PORTS.expired}`, tls: { ca } }, 'CONNECTOR_TLS', /kafka source.*certificate has expired/],
    ['no client certificate where mutual TLS is required', 'sink', { brokers: `127.0.0.1:${PORTS.mtls}`, tls: { ca } }, 'CONNECTOR_TLS', /wants a client certificate/],
    ['TLS to a plaintext port', 'source', { brokers: '127.0.0.1:19192', tls: { ca } }, 'CONNECTOR_TLS', /TLS handshake failed/],
  ];
  it.each(cases)('%s', async (_what, side, conn, code, message) => {
    const { error, ms } = await openFailure(conn, side);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.step).toBe(side === 'source' ? 'in' : 'out');
    expect(error.message).not.toContain('not-the-password');
    // Bounded: well before the 2-minute brokerUnavailableTimeout the client would retry for.
    expect(ms).toBeLessThan(60_000);
  }, 90_000);

  it('refuses a half-given client certificate or an unknown mechanism when built', () => {
    expect(() => kafkaSource({ brokers: '127.0.0.1:1', topic: 't', groupId: 'g', tls: { cert: `${CERTS}/client.pem` } })).toThrow(/tls.cert and tls.key go together/);
    expect(() => kafkaSink({ brokers: '127.0.0.1:1', topic: 't', sasl: { mechanism: 'GSSAPI' as 'PLAIN', username: 'u', password: 'p' } })).toThrow(/sasl.mechanism must be one of/);
    expect(() => kafkaSink({ brokers: '127.0.0.1:1', topic: 't', sasl: { mechanism: 'SCRAM-SHA-256', username: 'u' } })).toThrow(/needs a username and a password/);
  });
});
