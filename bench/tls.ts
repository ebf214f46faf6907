/**
 * What TLS costs (issue 17: "Kafka and HTTP ingest with TLS vs without: TLS costs < 15% of
 * throughput"), each plain beside TLS in one run on one machine:
 *
 * - Kafka: `kafkaSink` writes `--records` records of ~100 bytes (at-least-once, idempotent
 *   producer), then a bounded `kafkaSource` reads them back; on the TLS broker of
 *   `scripts/kafka/start-tls.sh` (started if it does not answer), through its PLAINTEXT
 *   listener (19192), its SASL_SSL listener with SCRAM-SHA-512 (19195) and its mutual-TLS
 *   listener (19194): one broker process, so only the listener differs.
 *   Beside them, the peer: Kafka's Java consumer (`ConsumerPerformance`) over plaintext and
 *   SASL_SSL on the same broker, for what TLS costs the broker and a JVM client here.
 * - HTTP ingest: `bench/http-ingest.ts`'s load (`--connections` requests in flight for
 *   `--seconds`, no durable log) against an `httpSource` over HTTP and over HTTPS.
 *
 * Variants alternate, `--runs` times (default 3); the best run of each is kept. Prints
 * records/s and the TLS/plain ratio per pair (target >= 0.85), and one JSON line.
 *
 *   npm run bench -- tls [--records N] [--runs N] [--seconds S] [--connections C] [--only kafka|http]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kafkaSink, kafkaSource, type KafkaConnectionOptions } from '../src/connectors/kafka/index.js';
import { testSinkContext, testSourceContext } from '../src/testing/index.js';
import { makeCerts } from '../test/connectors/shared/tls-certs.js';
import { ingestLoad } from './http-ingest.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const CERTS = `${root}.sluice/kafka-tls/certs`;
const TARGET = 0.85;

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

/** Writes `n` records of ~100 bytes over `conn` into a new 4-partition topic; the topic and records/s (the writer's open not counted). */
async function writeTopic(conn: KafkaConnectionOptions, n: number): Promise<string>;
async function writeTopic(conn: KafkaConnectionOptions, n: number, rate: true): Promise<[string, number]>;
async function writeTopic(conn: KafkaConnectionOptions, n: number, rate?: true): Promise<string | [string, number]> {
  const topic = `bench-tls-${randomUUID().slice(0, 8)}`;
  const payload = 'x'.repeat(80);
  const writer = kafkaSink<{ i: number; p: string }>({ ...conn, topic, createTopic: { partitions: 4 } }).createWriter(testSinkContext({ uid: 'out' }));
  await writer.open!();
  const t0 = performance.now();
  for (let i = 0; i < n; i += 10_000) {
    const m = Math.min(10_000, n - i);
    await writer.write(
      Array.from({ length: m }, (_, j) => ({ i: i + j, p: payload })),
      new Array<number>(m).fill(0),
    );
  }
  await writer.flush!();
  const perSec = n / ((performance.now() - t0) / 1000);
  await writer.close();
  return rate ? [topic, perSec] : topic;
}

/** Kafka's ConsumerPerformance over `broker`: its fetch rate (records/s, the group join not counted). */
function javaConsume(broker: string, topic: string, n: number, extra: string[]): number {
  const out = execFileSync('java', ['-Xmx512m', '-cp', `${root}.sluice/kafka/lib/*`, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', broker, '--topic', topic, '--messages', String(n), '--group', `bench-perf-${randomUUID()}`, '--timeout', '60000', ...extra], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  return Math.round(Number(out.trim().split('\n').at(-1)!.split(',').map((c) => c.trim())[9]));
}

/** Writes then reads `n` records over `conn`; records/s of each. */
async function kafkaRound(conn: KafkaConnectionOptions, n: number): Promise<{ write: number; read: number }> {
  const [topic, write] = await writeTopic(conn, n, true);
  // Read from the first record on: the group join before it (seconds, the same with or without TLS) is not throughput.
  const reader = kafkaSource({ ...conn, topic, groupId: `g-${topic}`, startFrom: 'earliest', bounded: true }).createReader(testSourceContext({ uid: 'in', maxBatchSize: 10_000 }));
  await reader.open!();
  let read = 0;
  let first = 0;
  for (;;) {
    const batch = await reader.poll();
    if (batch.values.length > 0 && first === 0) first = performance.now();
    read += batch.values.length;
    if (batch.done) break;
  }
  const elapsed = performance.now() - first;
  await reader.close();
  if (read !== n) throw new Error(`read ${read} of ${n} records over ${JSON.stringify(conn.brokers)}`);
  return { write, read: n / (elapsed / 1000) };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(10);

export async function runTlsBench(args: string[]): Promise<void> {
  const runs = arg(args, '--runs', 3);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const result: Record<string, unknown> = { runs };
  console.log(`TLS beside plain, best of ${runs} alternating runs (target: TLS >= ${TARGET} x plain)\n`);

  if (only === undefined || only === 'kafka') {
    const n = arg(args, '--records', 100_000);
    const r = spawnSync('bash', [`${root}scripts/kafka/start-tls.sh`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`scripts/kafka/start-tls.sh failed:\n${r.stdout}\n${r.stderr}`);
    const ca = `${CERTS}/ca.pem`;
    const variants: Array<[string, KafkaConnectionOptions]> = [
      ['plaintext', { brokers: '127.0.0.1:19192' }],
      ['SASL_SSL SCRAM-SHA-512', { brokers: '127.0.0.1:19195', tls: { ca }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' } }],
      ['mutual TLS', { brokers: '127.0.0.1:19194', tls: { ca, cert: `${CERTS}/client.pem`, key: `${CERTS}/client.key` } }],
    ];
    const best = new Map<string, { write: number; read: number }>();
    for (let run = 0; run < runs; run++) {
      for (const [name, conn] of variants) {
        const f = await kafkaRound(conn, n);
        const b = best.get(name);
        best.set(name, { write: Math.max(b?.write ?? 0, f.write), read: Math.max(b?.read ?? 0, f.read) });
      }
    }
    const plain = best.get('plaintext')!;
    console.log(`Kafka, ${n.toLocaleString('en-US')} records of ~100 bytes, one broker (its listeners differ)`);
    console.log(`${'variant'.padEnd(24)} ${'write/s'.padStart(10)} ${'read/s'.padStart(10)}  write ratio  read ratio`);
    const rows: Record<string, unknown> = {};
    for (const [name] of variants) {
      const f = best.get(name)!;
      const ratios = { write: f.write / plain.write, read: f.read / plain.read };
      rows[name] = { writePerSec: Math.round(f.write), readPerSec: Math.round(f.read), writeRatio: +ratios.write.toFixed(3), readRatio: +ratios.read.toFixed(3) };
      console.log(`${name.padEnd(24)} ${fmt(f.write)} ${fmt(f.read)}  ${ratios.write.toFixed(2).padStart(11)}  ${ratios.read.toFixed(2).padStart(10)}`);
    }
    // The peer: Kafka's own Java consumer (kafka-consumer-perf-test) over the same two listeners,
    // on one topic the plaintext variant wrote: what TLS costs the broker and a JVM client here.
    const topic = await writeTopic({ brokers: '127.0.0.1:19192' }, n);
    const props = `${CERTS}/../perf-sasl-ssl.properties`;
    writeFileSync(props, ['security.protocol=SASL_SSL', 'sasl.mechanism=SCRAM-SHA-512', 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";', 'ssl.truststore.type=PEM', `ssl.truststore.location=${ca}`, ''].join('\n'));
    const java = { plaintext: 0, saslSsl: 0 };
    for (let run = 0; run < runs; run++) {
      java.plaintext = Math.max(java.plaintext, javaConsume('127.0.0.1:19192', topic, n, []));
      java.saslSsl = Math.max(java.saslSsl, javaConsume('127.0.0.1:19195', topic, n, ['--consumer.config', props]));
    }
    console.log(`${'Java consumer, plaintext'.padEnd(24)} ${''.padStart(10)} ${fmt(java.plaintext)}`);
    console.log(`${'Java consumer, SASL_SSL'.padEnd(24)} ${''.padStart(10)} ${fmt(java.saslSsl)}  ${''.padStart(11)}  ${(java.saslSsl / java.plaintext).toFixed(2).padStart(10)}`);
    result.kafka = { records: n, ...rows, javaConsumer: { plaintextPerSec: java.plaintext, saslSslPerSec: java.saslSsl, ratio: +(java.saslSsl / java.plaintext).toFixed(3) } };
    console.log('');
  }

  if (only === undefined || only === 'http') {
    const seconds = arg(args, '--seconds', 5);
    const connections = arg(args, '--connections', 32);
    const certs = makeCerts();
    const tls = { cert: certs.path('server.pem'), key: certs.path('server.key') };
    const ca = readFileSync(certs.path('ca.pem'), 'utf8');
    const best = { http: 0, https: 0 };
    for (let run = 0; run < runs; run++) {
      best.http = Math.max(best.http, (await ingestLoad({ connections, seconds, records: 10, durable: false })).recordsPerSecond);
      best.https = Math.max(best.https, (await ingestLoad({ connections, seconds, records: 10, durable: false, tls, ca })).recordsPerSecond);
    }
    const ratio = best.https / best.http;
    console.log(`HTTP ingest, ${connections} connections (keep-alive), 10 records a request, ${seconds} s a run, no durable log`);
    console.log(`http  ${fmt(best.http)} records/s`);
    console.log(`https ${fmt(best.https)} records/s   ratio ${ratio.toFixed(2)}`);
    result.http = { connections, seconds, httpPerSec: best.http, httpsPerSec: best.https, ratio: +ratio.toFixed(3) };
  }
  console.log(JSON.stringify({ bench: 'tls', target: TARGET, ...result }));
}

if (process.argv[1]?.endsWith('tls.ts')) await runTlsBench(process.argv.slice(2));
