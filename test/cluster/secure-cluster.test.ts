/**
 * A cluster on brokers that want TLS and SASL: the members take the job's Kafka sources'
 * `tls` and `sasl` for every client they make (group, transactions, changelogs, internal
 * topics), so the same job file runs unchanged; a wrong password fails the member at once
 * with CONNECTOR_AUTH naming the cluster. Against the real SASL_SSL broker
 * (`scripts/kafka/start-tls.sh`).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { clusterCommand } from '../../src/cli/commands/cluster.js';
import { kafkaSink, kafkaSource } from '../../src/connectors/kafka/index.js';
import type { KafkaConnectionOptions } from '../../src/connectors/kafka/connection.js';
import { readAll, testSinkContext, testSourceContext } from '../../src/testing/index.js';
import { until } from '../cli/processes.js';
import { CERTS, PASSWORD, PORTS, USER, startTlsBroker } from '../connectors/kafka/tls-broker.js';
import { batchCount, clicks, FLUSH } from './fixtures/cluster-run.js';
import { buildWindowCount } from './fixtures/window-count.js';

beforeAll(() => startTlsBroker(), 600_000);

const secure: KafkaConnectionOptions = { brokers: `127.0.0.1:${PORTS.saslSsl}`, tls: { ca: `${CERTS}/ca.pem` }, sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: PASSWORD } };

/** Writes `records` to a new `partitions`-partition topic over `secure` (keyed by the record: the client spreads them). */
async function produce(topic: string, records: Array<{ value: string }>, partitions: number): Promise<void> {
  const writer = kafkaSink<string>({ ...secure, topic, format: 'string', createTopic: { partitions } }).createWriter(testSinkContext({ uid: 'in' }));
  await writer.open!();
  await writer.write(
    records.map((r) => r.value),
    records.map(() => 0),
  );
  await writer.flush!();
  await writer.close();
}

/** What the output topic holds (read_committed), over `secure`. */
async function output(topic: string): Promise<string[]> {
  const read = await readAll(kafkaSource<string>({ ...secure, topic, groupId: `read-${randomUUID().slice(0, 6)}`, startFrom: 'earliest', bounded: true, format: 'string' }), testSourceContext({ uid: 'out' }));
  return read.values;
}

describe('a cluster over SASL_SSL (real broker)', () => {
  it('runs the job file unchanged: its Kafka sources’ TLS and SASL reach every client of the member', { timeout: 240_000 }, async () => {
    const id = randomUUID().slice(0, 8);
    const input = `t-secure-in-${id}`;
    const out = `t-secure-out-${id}`;
    // One input partition, in event-time order: its last click (the flush) closes every window.
    const records = clicks(Date.now() % 100_000, [0]);
    await produce(input, records, 1);
    await produce(out, [], 1);
    const running = buildWindowCount({ input, output: out, groupId: `g-${id}`, connection: secure }).start({ cluster: { name: `cl-secure-${id}`, brokers: secure.brokers } });
    try {
      const expected = batchCount(records).sort();
      const got = await until(
        async () => {
          const lines = (await output(out)).filter((l) => !l.startsWith(FLUSH)).sort();
          return lines.length >= expected.length ? lines : undefined;
        },
        180_000,
        () => 'the windows of the input in the output',
      );
      expect(got).toEqual(expected);

      // sluice cluster status reads the cluster over the same TLS and SASL, from an access file.
      const access = join(tmpdir(), `sluice-access-${id}.json`);
      writeFileSync(access, JSON.stringify({ tls: secure.tls, sasl: { ...secure.sasl, password: { env: 'SLUICE_TEST_CLUSTER_PASSWORD' } } }));
      process.env.SLUICE_TEST_CLUSTER_PASSWORD = PASSWORD;
      const printed: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (printed.push(String(chunk)), true));
      let code: number;
      try {
        code = await clusterCommand(['status', '--kafka', String(secure.brokers), '--cluster', `cl-secure-${id}`, '--kafka-access', access, '--json']);
      } finally {
        spy.mockRestore();
      }
      expect(code).toBe(0);
      const status = JSON.parse(printed.join('')) as { cluster: string; members: Array<{ instanceId?: string }>; topics: Array<{ name: string }> };
      expect(status.cluster).toBe(`cl-secure-${id}`);
      expect(status.members).toHaveLength(1);
      expect(status.topics.map((t) => t.name)).toContain(`cl-secure-${id}-clicks-per-user-changelog`);
    } finally {
      running.cancel();
      await running.done.catch(() => {});
    }
  });

  it('a wrong password fails the member at once with CONNECTOR_AUTH naming the cluster', { timeout: 120_000 }, async () => {
    const id = randomUUID().slice(0, 8);
    const wrong = { ...secure, sasl: { mechanism: 'SCRAM-SHA-512' as const, username: USER, password: 'not-the-password' } };
    const running = buildWindowCount({ input: `t-never-${id}`, output: `t-never-${id}`, groupId: `g-${id}`, connection: wrong }).start({ cluster: { name: `cl-bad-${id}`, brokers: secure.brokers } });
    const error = await running.done.then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(error?.code).toBe('CONNECTOR_AUTH');
    expect(error?.message).toMatch(/cluster 'cl-bad-.*SASL authentication .* failed/);
    expect(error?.message).not.toContain('not-the-password');
  });
});
