import { describe, expect, it } from 'vitest';
import { jsonFormat } from '../../src/formats/index.js';
import { Job, generator, mqttSource, natsSink, natsSource, postgresSink, redisSink, redisStreamSource } from '../../src/index.js';
import { redactSecrets } from '../../src/errors/index.js';

// Issue 17: a Redis password given in the `url` option was shown by `GET /jobs/:id` and by
// `--explain`. A known secret is planted in the options of every connector that takes a
// URL or a password; neither rendering of the plan may show it.

const SECRET = 'Pl4nted-S3cret';
const nothing = () => '';

/** A job with every connector that takes credentials, each given the planted secret. */
function jobWithSecrets(options: ConstructorParameters<typeof Job>[0] = {}): Job {
  const job = new Job({ name: 'secrets', ...options });
  const redis = job.source(redisStreamSource({ url: `redis://app:${SECRET}@127.0.0.1:1`, stream: 's', group: 'g', format: jsonFormat() }), { uid: 'redis-in' });
  const mqtt = job.source(mqttSource({ url: `mqtts://device:${SECRET}@127.0.0.1:1`, topics: 't' }), { uid: 'mqtt-in' });
  const nats = job.source(natsSource({ servers: [`nats://user:${SECRET}@127.0.0.1:1`], stream: 's', durable: 'd', format: jsonFormat() }), { uid: 'nats-in' });
  const all = job.source(generator<unknown>({ make: (i) => ({ i }), ratePerSecond: 10 }), { uid: 'gen' }).union(redis, mqtt, nats);
  all.sinkTo(redisSink({ url: `rediss://default:${SECRET}@127.0.0.1:1/0`, target: { type: 'hash', key: nothing } }), { uid: 'redis-out' });
  all.sinkTo(postgresSink({ connectionString: `postgres://app:${SECRET}@127.0.0.1:1/db?sslpassword=${SECRET}`, table: 't', key: ['k'], columns: ['k'], row: () => [1] }), { uid: 'pg-out' });
  all.sinkTo(postgresSink({ connectionString: `host=127.0.0.1 port=1 user=app password=${SECRET}`, table: 't', key: ['k'], columns: ['k'], row: () => [1] }), { uid: 'pg-kv-out' });
  all.sinkTo(natsSink({ servers: `nats://user:${SECRET}@127.0.0.1:1`, subject: 'x', format: jsonFormat() }), { uid: 'nats-out' });
  // The transport-security options (issue 17): passwords, tokens, keys and client certificates given as values.
  const pem = `-----BEGIN PRIVATE KEY-----\n${SECRET}\n-----END PRIVATE KEY-----`;
  const tls = { ca: '/etc/ssl/ca.pem', cert: pem, key: pem, passphrase: SECRET };
  const secure = job.source(redisStreamSource({ url: 'rediss://127.0.0.1:1', tls, username: 'app', password: SECRET, stream: 's', group: 'g', format: jsonFormat() }), { uid: 'redis-tls-in' });
  const mqttTls = job.source(mqttSource({ url: 'mqtts://127.0.0.1:1', topics: 't', username: 'device', password: SECRET, tls }), { uid: 'mqtt-tls-in' });
  const natsTls = job.source(natsSource({ servers: '127.0.0.1:1', tls, token: SECRET, stream: 's', durable: 'd', format: jsonFormat() }), { uid: 'nats-tls-in' });
  const tlsAll = secure.union(mqttTls, natsTls);
  tlsAll.sinkTo(natsSink({ servers: '127.0.0.1:1', tls, user: 'app', password: SECRET, subject: 'x', format: jsonFormat() }), { uid: 'nats-tls-out' });
  tlsAll.sinkTo(natsSink({ servers: '127.0.0.1:1', nkeySeed: SECRET, subject: 'x', format: jsonFormat() }), { uid: 'nats-nkey-out' });
  tlsAll.sinkTo(redisSink({ url: 'rediss://127.0.0.1:1', tls, username: 'app', password: SECRET, target: { type: 'hash', key: nothing } }), { uid: 'redis-tls-out' });
  tlsAll.sinkTo(postgresSink({ connectionString: 'postgres://app@127.0.0.1:1/db', password: SECRET, ssl: tls, table: 't', key: ['k'], columns: ['k'], row: () => [1] }), { uid: 'pg-tls-out' });
  return job;
}

describe('secrets in connector options', () => {
  it('explain() shows the connectors, not the secret', () => {
    const text = jobWithSecrets().explain();
    expect(text).toContain('rediss://default:***@127.0.0.1:1/0');
    expect(text).toContain('mqtts://device:***@127.0.0.1:1');
    expect(text).toContain('tls (ca /etc/ssl/ca.pem, client cert (inline PEM))'); // the TLS options, by where they come from
    expect(text).not.toContain(SECRET);
  });

  it('GET /jobs/:id (the plan the dashboard draws) does not show it', async () => {
    const run = jobWithSecrets({ server: { port: 0 }, restart: { strategy: 'fixed-delay', attempts: 1000, delay: '1s' } }).start();
    try {
      const { url } = (await run.server)!;
      const text = await (await fetch(`${url}/jobs/secrets`)).text();
      expect(text).toContain('redis-out');
      expect(text).toContain('rediss://default:***@127.0.0.1:1');
      expect(text).not.toContain(SECRET);
    } finally {
      run.cancel();
      await run.done.catch(() => {});
    }
  });

  it.each([
    ['a URL password', 'redis hash upserts (redis://app:s3cret@cache:6379)', 'redis hash upserts (redis://app:***@cache:6379)'],
    ['an @ in the password', 'mqtt://u:p@ss@h:1/x', 'mqtt://u:***@h:1/x'],
    ['no user, only a password', 'redis://:s3cret@h', 'redis://:***@h'],
    ['key=value fields', 'host=db user=app password=s3cret sslkey=/k', 'host=db user=app password=*** sslkey=***'],
    ['query parameters', 'https://h/x?token=abc&page=2&api_key=k', 'https://h/x?token=***&page=2&api_key=***'],
    ['quoted values', `{ secret: "a b", saslMechanism: 'plain' }`, `{ secret: ***, saslMechanism: *** }`],
    ['nothing secret', 'Kafka topic orders on a:9092, keyed, transactions with checkpoints', 'Kafka topic orders on a:9092, keyed, transactions with checkpoints'],
  ])('redactSecrets: %s', (_what, text, redacted) => {
    expect(redactSecrets(text)).toBe(redacted);
  });
});
