import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSink } from '../../../src/connectors/collect/index.js';
import { mqttSource, type MqttSourceOptions } from '../../../src/connectors/mqtt/index.js';
import type { SluiceError } from '../../../src/errors/index.js';
import { Job } from '../../../src/launch/job.js';
import { testSourceContext } from '../../../src/testing/index.js';
import { SECURE_PASSWORD, SECURE_PORTS, SECURE_USER, ensureSecureServices, type SecureCerts, expectAuthFailure, openFailure } from '../../setup/secure-services.js';

interface Reading {
  i: number;
}
const run = `tls-${randomUUID().slice(0, 8)}`;
const url = `mqtts://127.0.0.1:${SECURE_PORTS.mqtt}`;
let certs: SecureCerts;
let publisher: MqttClient;

beforeAll(async () => {
  certs = ensureSecureServices();
  publisher = await connectAsync(url, { username: SECURE_USER, password: SECURE_PASSWORD, ca: readFileSync(certs.ca, 'utf8') });
});
afterAll(async () => {
  await publisher.endAsync();
});

/** What opening a reader with these options threw. */
const openFails = (opts: Omit<MqttSourceOptions<Reading>, 'topics'>): Promise<SluiceError> =>
  openFailure(mqttSource<Reading>({ topics: `${run}/x`, cleanSession: true, ...opts }).createReader(testSourceContext({ uid: 'secure-in' })));

describe('MQTT over TLS (mqtts) with a password', () => {
  it('a job reads what is published, over TLS as the password user', async () => {
    process.env.SLUICE_TEST_MQTT_PASSWORD = SECURE_PASSWORD;
    const topic = `${run}/readings`;
    const job = new Job({ name: 'mqtt-tls', delivery: 'none' });
    const out = collectSink<Reading>();
    job.source(mqttSource<Reading>({ url, topics: topic, cleanSession: true, username: SECURE_USER, password: { env: 'SLUICE_TEST_MQTT_PASSWORD' }, tls: { ca: certs.ca } }), { uid: 'in' }).sinkTo(out);
    const running = job.start();
    const deadline = Date.now() + 20_000;
    // Published until the subscription sees them (it subscribes once the job has opened the source).
    let i = 0;
    while (out.count < 3 && Date.now() < deadline) {
      await publisher.publishAsync(topic, JSON.stringify({ i: i++ }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 50));
    }
    running.cancel();
    await running.done;
    expect(out.count).toBeGreaterThanOrEqual(3);
    const got = out.values.map((v) => v.i);
    expect(got).toEqual([...got].sort((a, b) => a - b)); // in publishing order
  });

  it.each([
    ['a wrong password', url, { ca: 'CA' }, 'not-the-password', /refused the credentials/],
    ['an unknown CA', url, undefined, SECURE_PASSWORD, /signed by a CA this client does not trust/],
    ['a wrong host name', `mqtts://127.0.0.1:${SECURE_PORTS.mqttWrongHost}`, { ca: 'CA' }, SECURE_PASSWORD, /does not name the host/],
    ['an expired certificate', `mqtts://127.0.0.1:${SECURE_PORTS.mqttExpired}`, { ca: 'CA' }, SECURE_PASSWORD, /has expired/],
  ] as const)('%s gives CONNECTOR_AUTH or CONNECTOR_TLS naming the connector and the cause', async (_what, target, tls, password, says) => {
    const e = await openFails({ url: target, username: SECURE_USER, password, ...(tls ? { tls: { ca: certs.ca } } : {}) });
    expectAuthFailure(e, /mqtt source 'secure-in': cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: /, says);
  });

  it('refuses a password without a user name', () => {
    expect(() => mqttSource<Reading>({ topics: 't', password: 'p' })).toThrow(/a password needs a username/);
  });
});
