/**
 * The Kafka broker with TLS and SASL listeners (`scripts/kafka/start-tls.sh`), started once
 * per machine by the first test file that asks (the script is a no-op while it answers, and
 * one starter runs at a time); it is left running, as the plain broker is.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KafkaConnectionOptions } from '../../../src/connectors/kafka/connection.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The certificates the script made (see `scripts/tls/make-certs.sh` for each file). */
export const CERTS = `${ROOT}.sluice/kafka-tls/certs`;
export const PORTS = { mtls: 19194, saslSsl: 19195, wrongHost: 19196, expired: 19197 } as const;
export const USER = 'alice';
export const PASSWORD = 'alice-secret';

let started = false;

/** Starts the TLS broker unless it answers already (the first start resolves no jars: they are the plain broker's). */
export function startTlsBroker(): void {
  if (started) return;
  const r = spawnSync('bash', [`${ROOT}scripts/kafka/start-tls.sh`], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 10 * 60_000 });
  if (r.status !== 0) throw new Error(`scripts/kafka/start-tls.sh failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  started = true;
}

/** An unsecured JWT (`alg: none`) for `sub`, as the broker's default OAUTHBEARER validator takes. */
export function unsecuredJwt(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ sub, iat: now, exp: now + 3600 })}.`;
}

/** Connection options for each way in that should work. */
export function goodConnections(): Array<[string, KafkaConnectionOptions]> {
  const tls = { ca: `${CERTS}/ca.pem` };
  const saslSsl = `127.0.0.1:${PORTS.saslSsl}`;
  return [
    ['SSL with a client certificate (mutual TLS)', { brokers: `127.0.0.1:${PORTS.mtls}`, tls: { ...tls, cert: `${CERTS}/client.pem`, key: `${CERTS}/client.key` } }],
    ['SASL_SSL PLAIN', { brokers: saslSsl, tls, sasl: { mechanism: 'PLAIN', username: USER, password: PASSWORD } }],
    ['SASL_SSL SCRAM-SHA-256', { brokers: saslSsl, tls, sasl: { mechanism: 'SCRAM-SHA-256', username: USER, password: PASSWORD } }],
    ['SASL_SSL SCRAM-SHA-512', { brokers: saslSsl, tls, sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: PASSWORD } }],
    ['SASL_SSL OAUTHBEARER', { brokers: saslSsl, tls, sasl: { mechanism: 'OAUTHBEARER', token: unsecuredJwt(USER) } }],
  ];
}
