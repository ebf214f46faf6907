import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSink } from '../../../src/connectors/collect/index.js';
import { fromCollection } from '../../../src/connectors/collection/index.js';
import { natsSink, natsSource, type NatsConnectionOptions } from '../../../src/connectors/nats/index.js';
import type { SluiceError } from '../../../src/errors/index.js';
import { jsonFormat } from '../../../src/formats/index.js';
import { Job } from '../../../src/launch/job.js';
import { testSinkContext } from '../../../src/testing/index.js';
import { SECURE_PASSWORD, SECURE_PORTS, SECURE_TOKEN, SECURE_USER, ensureSecureServices, type SecureCerts, expectAuthFailure, openFailure, untilCount } from '../../setup/secure-services.js';

interface Rec {
  i: number;
}
const run = `tls_${randomUUID().slice(0, 8)}`;
let certs: SecureCerts;
let admin: NatsConnection;
const server = (port: number): string => `127.0.0.1:${port}`;

beforeAll(async () => {
  certs = ensureSecureServices();
  admin = await connect({ servers: server(SECURE_PORTS.natsUsers), user: SECURE_USER, pass: SECURE_PASSWORD, tls: { ca: readFileSync(certs.ca, 'utf8') } });
  await (await jetstreamManager(admin)).streams.add({ name: run, subjects: [`${run}.>`] });
});
afterAll(async () => {
  await (await jetstreamManager(admin)).streams.delete(run).catch(() => {});
  await admin.close();
});

/** What opening a sink writer with these connection options threw. */
const openFails = (conn: NatsConnectionOptions): Promise<SluiceError> =>
  openFailure(natsSink<Rec>({ subject: `${run}.x`, format: jsonFormat<Rec>(), ...conn }).createWriter(testSinkContext({ uid: 'secure-out' })));

describe('NATS over TLS with authentication', () => {
  it('a job writes through TLS with user and password, another reads back with an NKEY', async () => {
    const values = Array.from({ length: 50 }, (_, i) => ({ i }));
    const write = new Job({ name: 'nats-tls-write' });
    write
      .source(fromCollection(values), { uid: 'in' })
      .sinkTo(natsSink<Rec>({ servers: server(SECURE_PORTS.natsUsers), tls: { ca: certs.ca }, user: SECURE_USER, password: SECURE_PASSWORD, subject: `${run}.in`, format: jsonFormat<Rec>() }), { uid: 'out' });
    await write.run();

    const read = new Job({ name: 'nats-tls-read' });
    const out = collectSink<Rec>();
    read
      .source(natsSource<Rec>({ servers: server(SECURE_PORTS.natsUsers), tls: { ca: { file: certs.ca } }, nkeySeed: certs.nkeySeed, stream: run, durable: 'reader', format: jsonFormat<Rec>(), ackOn: 'read' }), { uid: 'in' })
      .sinkTo(out);
    const running = read.start();
    await untilCount(() => out.count, values.length);
    running.cancel();
    await running.done;
    expect(out.values.map((v) => v.i).sort((a, b) => a - b)).toEqual(values.map((v) => v.i));
  });

  it('a token authenticates, the CA given as PEM text from a variable', async () => {
    process.env.SLUICE_TEST_NATS_CA = readFileSync(certs.ca, 'utf8');
    process.env.SLUICE_TEST_NATS_TOKEN = SECURE_TOKEN;
    const admin2 = await connect({ servers: server(SECURE_PORTS.natsToken), token: SECURE_TOKEN, tls: { ca: readFileSync(certs.ca, 'utf8') } });
    const stream = `${run}_token`;
    const jsm = await jetstreamManager(admin2);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    try {
      const job = new Job({ name: 'nats-tls-token' });
      job
        .source(fromCollection([{ i: 1 }, { i: 2 }]), { uid: 'in' })
        .sinkTo(natsSink<Rec>({ servers: server(SECURE_PORTS.natsToken), tls: { ca: { env: 'SLUICE_TEST_NATS_CA' } }, token: { env: 'SLUICE_TEST_NATS_TOKEN' }, subject: `${stream}.in`, format: jsonFormat<Rec>() }), { uid: 'out' });
      await job.run();
      expect((await jsm.streams.info(stream)).state.messages).toBe(2);
      const m = await (await jetstream(admin2).consumers.get(stream)).next();
      expect(m?.json()).toEqual({ i: 1 });
    } finally {
      await jsm.streams.delete(stream).catch(() => {});
      await admin2.close();
    }
  });

  it('a wrong password fails the job with CONNECTOR_AUTH naming the sink, never the password', async () => {
    const job = new Job({ name: 'nats-tls-wrong-password' });
    job
      .source(fromCollection([{ i: 1 }]), { uid: 'in' })
      .sinkTo(natsSink<Rec>({ servers: server(SECURE_PORTS.natsUsers), tls: { ca: certs.ca }, user: SECURE_USER, password: 'not-the-password', subject: `${run}.x`, format: jsonFormat<Rec>() }), { uid: 'secure-out' });
    const e = await job.run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(String(e)).toMatch(/CONNECTOR_AUTH/);
    expect(String(e)).toMatch(/nats sink 'secure-out'.*refused the credentials/);
    expect(String(e)).not.toContain('not-the-password');
  });

  it.each([
    ['an unknown CA', SECURE_PORTS.natsUsers, { tls: true }, /signed by a CA this client does not trust/],
    ['a wrong host name', SECURE_PORTS.natsWrongHost, { tls: { ca: 'CA' }, token: SECURE_TOKEN }, /does not name the host/],
    ['an expired certificate', SECURE_PORTS.natsExpired, { tls: { ca: 'CA' }, token: SECURE_TOKEN }, /has expired/],
    ['a wrong token', SECURE_PORTS.natsToken, { tls: { ca: 'CA' }, token: 'wrong-token' }, /refused the credentials/],
    ['a wrong NKEY', SECURE_PORTS.natsUsers, { tls: { ca: 'CA' }, nkeySeed: 'SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY' }, /refused the credentials/],
  ] as const)('%s gives CONNECTOR_AUTH or CONNECTOR_TLS naming the connector and the cause', async (_what, port, conn, says) => {
    const tls = typeof conn.tls === 'object' ? { ca: certs.ca } : conn.tls;
    const e = await openFails({ ...conn, tls, servers: server(port) } as NatsConnectionOptions);
    expectAuthFailure(e, /nats sink 'secure-out': cannot connect to 127\.0\.0\.1:\d+: /, says, 'wrong-token');
  });

  it('refuses options that mix ways to authenticate, or a password without a user', () => {
    expect(() => natsSink<Rec>({ subject: 'x', format: jsonFormat<Rec>(), token: 't', user: 'u', password: 'p' })).toThrow(/one way to authenticate/);
    expect(() => natsSink<Rec>({ subject: 'x', format: jsonFormat<Rec>(), password: 'p' })).toThrow(/user and password go together/);
    expect(() => natsSource<Rec>({ stream: 's', durable: 'd', format: jsonFormat<Rec>(), tls: { cert: '/c.pem' } })).toThrow(/tls.cert and tls.key go together/);
  });
});
