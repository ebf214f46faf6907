import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { kafkaSink, kafkaSource } from '../../src/connectors/kafka/index.js';
import { CERTS, PORTS, startTlsBroker } from '../connectors/kafka/tls-broker.js';
import { jsonFormat } from '../../src/formats/index.js';
import { Job, generator, mqttSource, natsSink, natsSource, postgresSink, redisSink, redisStreamSource, resolveSecret, type Secret } from '../../src/index.js';
import { collecting } from '../helpers.js';
import { SECURE_PORTS, SECURE_USER, ensureSecureServices } from '../setup/secure-services.js';

// Issue 17, item 5: connection options take references ({ env }, { file }) resolved when the
// connector opens. A known secret is planted in every connector's options, by reference and
// as a value; the connectors fail to connect (port 1) so that their errors are produced, and
// every output a person or a log collector sees is searched for it.

const SECRET = 'Kn0wn-Ref-S3cret-17';
const dir = mkdtempSync(join(tmpdir(), 'sluice-secret-refs-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, `${text}\n`);
  return { file: p };
};
process.env.SLUICE_TEST_REDIS_URL = `redis://app:${SECRET}@127.0.0.1:1`;
process.env.SLUICE_TEST_NATS_URL = `nats://user:${SECRET}@127.0.0.1:1`;

type Build = (job: Job) => void;
const gen = (job: Job) => job.source(generator<unknown>({ make: (i) => ({ i }), ratePerSecond: 100 }), { uid: 'gen' });
const row = { table: 't', key: ['k'], columns: ['k'], row: () => [1] };

const cases: Array<[string, Build]> = [
  ['redis sink, url from env', (job) => void gen(job).sinkTo(redisSink({ url: { env: 'SLUICE_TEST_REDIS_URL' }, target: { type: 'hash', key: () => 'k' } }), { uid: 'out' })],
  ['redis source, url from a file', (job) => void job.source(redisStreamSource({ url: file('redis-url', `redis://app:${SECRET}@127.0.0.1:1`), stream: 's', group: 'g', format: jsonFormat() }), { uid: 'in' }).sinkTo(collecting().sink, { uid: 'out' })],
  ['redis sink, url as a value', (job) => void gen(job).sinkTo(redisSink({ url: `redis://:${SECRET}@127.0.0.1:1/0`, target: { type: 'hash', key: () => 'k' } }), { uid: 'out' })],
  ['postgres sink, connection string from a file', (job) => void gen(job).sinkTo(postgresSink({ connectionString: file('pg', `postgres://app:${SECRET}@127.0.0.1:1/db`), ...row }), { uid: 'out' })],
  ['postgres sink, URL as a value', (job) => void gen(job).sinkTo(postgresSink({ connectionString: `postgres://app:${SECRET}@127.0.0.1:1/db?application_name=x`, ...row }), { uid: 'out' })],
  ['nats source, servers from env', (job) => void job.source(natsSource({ servers: [{ env: 'SLUICE_TEST_NATS_URL' }], stream: 's', durable: 'd', format: jsonFormat() }), { uid: 'in' }).sinkTo(collecting().sink, { uid: 'out' })],
  ['nats sink, servers as a value', (job) => void gen(job).sinkTo(natsSink({ servers: `nats://user:${SECRET}@127.0.0.1:1`, subject: 'x', format: jsonFormat() }), { uid: 'out' })],
  ['mqtt source, url from a file', (job) => void job.source(mqttSource({ url: file('mqtt', `mqtt://device:${SECRET}@127.0.0.1:1`), topics: 't' }), { uid: 'in' }).sinkTo(collecting().sink, { uid: 'out' })],
  ['mqtt source, url as a value', (job) => void job.source(mqttSource({ url: `mqtt://device:${SECRET}@127.0.0.1:1`, topics: 't' }), { uid: 'in' }).sinkTo(collecting().sink, { uid: 'out' })],
];

/** Everything a run shows: its failure (exceptions), its log lines, the REST job view, exceptions, logs and metrics. */
async function everythingShown(build: Build): Promise<{ text: string; failure: string }> {
  const lines: string[] = [];
  // Restarts keep the job (and its server) up while its failures are read.
  const job = new Job({ name: 'planted', log: { level: 'debug', destination: { write: (l) => void lines.push(l) } }, server: { port: 0, audit: false }, restart: { strategy: 'fixed-delay', attempts: 100, delay: 300 } });
  build(job);
  const shown: string[] = [job.explain()];
  const run = job.start();
  try {
    const server = (await run.server)!;
    const deadline = Date.now() + 15_000;
    while (run.monitor.exceptions.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const path of ['/jobs/planted', '/jobs/planted/exceptions', '/jobs/planted/logs?limit=1000', '/metrics']) {
      shown.push(await (await fetch(`${server.url}${path}`)).text());
    }
  } finally {
    run.cancel();
    await run.done.catch(() => {});
  }
  const failure = JSON.stringify(run.monitor.exceptions);
  return { text: [...shown, failure, ...lines].join('\n'), failure };
}

describe('a secret planted in connector options is never shown', () => {
  it.each(cases)('%s', async (_what, build) => {
    const { text, failure } = await everythingShown(build);
    // The connector did fail, with a message (so the search below had something to search).
    expect(failure).toMatch(/SOURCE_FAILED|SINK_FAILED/);
    expect(text).toMatch(/127\.0\.0\.1:1|port=1|\{file |\{env /);
    expect(text).not.toContain(SECRET);
  }, 30_000);
});

// The transport-security options (issue 17, item 1): a wrong password, given as a value or a
// reference, refused by a server with TLS and authentication on. Refusals are CONNECTOR_AUTH,
// whose detail quotes the client library: it must not quote the password either.
describe('a planted password that a TLS server refuses is never shown', () => {
  let ca = '';
  beforeAll(() => {
    ca = ensureSecureServices().ca;
    process.env.SLUICE_TEST_SECURE_PASSWORD = SECRET;
  });
  const refused: Array<[string, Build]> = [
    ['nats sink, password as a value', (job) => void gen(job).sinkTo(natsSink({ servers: `127.0.0.1:${SECURE_PORTS.natsUsers}`, tls: { ca }, user: SECURE_USER, password: SECRET, subject: 'x', format: jsonFormat() }), { uid: 'out' })],
    ['nats source, token from env', (job) => void job.source(natsSource({ servers: `127.0.0.1:${SECURE_PORTS.natsToken}`, tls: { ca }, token: { env: 'SLUICE_TEST_SECURE_PASSWORD' }, stream: 's', durable: 'd', format: jsonFormat() }), { uid: 'in' }).sinkTo(collecting().sink, { uid: 'out' })],
    ['redis sink, password from env', (job) => void gen(job).sinkTo(redisSink({ url: `rediss://127.0.0.1:${SECURE_PORTS.redis}`, tls: { ca }, username: SECURE_USER, password: { env: 'SLUICE_TEST_SECURE_PASSWORD' }, target: { type: 'hash', key: () => 'k' } }), { uid: 'out' })],
    ['postgres sink, password as a value', (job) => void gen(job).sinkTo(postgresSink({ connectionString: `postgres://sluice_pw@127.0.0.1:${SECURE_PORTS.postgres}/postgres`, password: SECRET, ssl: { ca }, ...row }), { uid: 'out' })],
    ['mqtt source, password from a file', (job) => void job.source(mqttSource({ url: `mqtts://127.0.0.1:${SECURE_PORTS.mqtt}`, tls: { ca }, username: SECURE_USER, password: file('mqtt-password', SECRET), topics: 't' }), { uid: 'in' }).sinkTo(collecting().sink, { uid: 'out' })],
  ];
  it.each(refused)('%s', async (_what, build) => {
    const { text, failure } = await everythingShown(build);
    expect(failure).toMatch(/CONNECTOR_AUTH/);
    expect(failure).toMatch(/refused the credentials/);
    expect(text).not.toContain(SECRET);
  }, 30_000);
});

// Issue 17: a Kafka SASL password (as a value and by reference) and a TLS key file's
// reference, against the real SASL_SSL broker, which refuses the planted password.
describe('a secret planted in the Kafka connectors\' sasl and tls options is never shown', () => {
  beforeAll(() => startTlsBroker(), 600_000);
  process.env.SLUICE_TEST_KAFKA_SECRET = SECRET;
  const conn = (password: Secret) => ({ brokers: `127.0.0.1:${PORTS.saslSsl}`, tls: { ca: { file: `${CERTS}/ca.pem` } }, sasl: { mechanism: 'SCRAM-SHA-256' as const, username: 'alice', password } });
  const kafkaCases: Array<[string, Build]> = [
    ['kafka source, sasl password as a value', (job) => void job.source(kafkaSource({ ...conn(SECRET), topic: 't', groupId: 'g' }), { uid: 'in' }).sinkTo(collecting().sink, { uid: 'out' })],
    ['kafka sink, sasl password from env', (job) => void gen(job).sinkTo(kafkaSink({ ...conn({ env: 'SLUICE_TEST_KAFKA_SECRET' }), topic: 't' }), { uid: 'out' })],
  ];
  it.each(kafkaCases)('%s', async (_what, build) => {
    const { text, failure } = await everythingShown(build);
    expect(failure).toContain('CONNECTOR_AUTH');
    expect(text).toContain(`127.0.0.1:${PORTS.saslSsl}`);
    expect(text).not.toContain(SECRET);
  }, 60_000);
});

describe('secret references', () => {
  it('resolve from the environment and from a file (its trailing newline dropped) when the connector opens', async () => {
    process.env.SLUICE_TEST_SECRET = 'abc123';
    expect(await resolveSecret({ env: 'SLUICE_TEST_SECRET' }, 'x')).toBe('abc123');
    expect(await resolveSecret(file('s', 'from-file'), 'x')).toBe('from-file');
    expect(await resolveSecret('plain', 'x')).toBe('plain');
  });

  it.each([
    [{ env: 'SLUICE_TEST_UNSET_VARIABLE' }, /SLUICE_TEST_UNSET_VARIABLE is not set/],
    [{ file: join(dir, 'missing') }, /cannot be read \(ENOENT\)/],
    [file('empty', ''), /is empty/],
  ] as Array<[Secret, RegExp]>)('%j that cannot be resolved fails the open with SECRET_UNRESOLVED', async (ref, message) => {
    await expect(resolveSecret(ref, 'redis sink')).rejects.toMatchObject({ code: 'SECRET_UNRESOLVED', message });
    const job = new Job({ name: 'unresolved', restart: { strategy: 'none' } });
    gen(job).sinkTo(redisSink({ url: ref, target: { type: 'hash', key: () => 'k' } }), { uid: 'out' });
    await expect(job.run()).rejects.toMatchObject({ message: expect.stringContaining('SECRET_UNRESOLVED') as string });
  });

  it('a reference that resolves connects for real, and a dead letter of that source does not show it', async () => {
    const stream = `secret-refs-${process.pid}-${Date.now()}`;
    const redis = new Redis('redis://127.0.0.1:6379');
    try {
      await redis.xadd(stream, '*', 'data', JSON.stringify({ ok: 1 }));
      await redis.xadd(stream, '*', 'data', '{not json');
      // A user the server knows, by reference: the password sits only in the variable.
      await redis.call('ACL', 'SETUSER', `sluice-${process.pid}`, 'on', `>${SECRET}`, '~*', '&*', '+@all');
      process.env.SLUICE_TEST_REDIS_GOOD_URL = `redis://sluice-${process.pid}:${SECRET}@127.0.0.1:6379`;
      const job = new Job({ name: 'dead-letters', onError: 'dead-letter', restart: { strategy: 'none' } });
      const out = collecting<unknown>();
      const dead = collecting<unknown>();
      job.source(redisStreamSource({ url: { env: 'SLUICE_TEST_REDIS_GOOD_URL' }, stream, group: 'g', format: jsonFormat() }), { uid: 'in' }).sinkTo(out.sink, { uid: 'out' });
      job.deadLetters().sinkTo(dead.sink, { uid: 'dead' });
      const run = job.start();
      const deadline = Date.now() + 15_000;
      while ((out.out.values.length < 1 || dead.out.values.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      run.cancel();
      await run.done.catch(() => {});
      expect(out.out.values).toEqual([{ ok: 1 }]);
      expect(dead.out.values).toHaveLength(1);
      expect(JSON.stringify(dead.out.values)).not.toContain(SECRET);
    } finally {
      await redis.call('ACL', 'DELUSER', `sluice-${process.pid}`).catch(() => {});
      await redis.del(stream);
      redis.disconnect();
    }
  }, 30_000);
});
