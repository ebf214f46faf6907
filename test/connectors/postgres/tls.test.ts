import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSink } from '../../../src/connectors/collect/index.js';
import { fromCollection } from '../../../src/connectors/collection/index.js';
import { PostgresKeyStore, postgresLookup, postgresSink, postgresTimeSeriesSink, type PostgresConnectionOptions } from '../../../src/connectors/postgres/index.js';
import type { SluiceError } from '../../../src/errors/index.js';
import { lookupJoin } from '../../../src/index.js';
import { Job } from '../../../src/launch/job.js';
import { testSinkContext } from '../../../src/testing/index.js';
import { SECURE_PASSWORD, SECURE_PORTS, ensureSecureServices, type SecureCerts, expectAuthFailure, openFailure } from '../../setup/secure-services.js';

interface Row {
  id: number;
  name: string;
}
const table = `tls_${randomUUID().slice(0, 8)}`;
const passwordUser = `postgres://sluice_pw@127.0.0.1:${SECURE_PORTS.postgres}/postgres`;
const certUser = `postgres://sluice_cert@127.0.0.1:${SECURE_PORTS.postgres}/postgres`;
let certs: SecureCerts;
let admin: pg.Client;

beforeAll(async () => {
  certs = ensureSecureServices();
  // pg lets the connection string override `password`: give it in the string for this admin client.
  admin = new pg.Client({ connectionString: passwordUser.replace('sluice_pw@', `sluice_pw:${SECURE_PASSWORD}@`), ssl: { ca: readFileSync(certs.ca, 'utf8') } });
  await admin.connect();
  await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
});
afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.query(`DROP TABLE IF EXISTS ${table}_ts CASCADE`);
  await admin.end();
});

const upsert = (conn: PostgresConnectionOptions) => postgresSink<Row>({ ...conn, table, key: ['id'], columns: ['id', 'name'], row: (r) => [r.id, r.name] });

/** What opening a sink writer with these connection options threw. */
const openFails = (conn: PostgresConnectionOptions): Promise<SluiceError> => openFailure(upsert(conn).createWriter(testSinkContext({ uid: 'secure-out' })));

describe('PostgreSQL with ssl=on, password and client-certificate users', () => {
  it('a job upserts over TLS with a password; another looks the rows up with a client certificate', async () => {
    process.env.SLUICE_TEST_PG_PASSWORD = SECURE_PASSWORD;
    const rows = Array.from({ length: 30 }, (_, id) => ({ id, name: `n${id}` }));
    const write = new Job({ name: 'pg-tls-write' });
    write.source(fromCollection(rows), { uid: 'in' }).sinkTo(upsert({ connectionString: passwordUser, password: { env: 'SLUICE_TEST_PG_PASSWORD' }, ssl: { ca: certs.ca } }), { uid: 'out' });
    await write.run();
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(30);

    const lookup = postgresLookup<{ name: string }>({ connectionString: certUser, ssl: { ca: certs.ca, cert: certs.clientCert, key: { file: certs.clientKey } }, table, keyColumn: 'id', columns: ['name'] });
    const read = new Job({ name: 'pg-tls-lookup' });
    const out = collectSink<string>();
    lookupJoin(read.source(fromCollection([3, 7, 99]), { uid: 'ids' }), lookup, { uid: 'rows', key: (id) => id, join: (id, r) => `${id}:${r?.name ?? 'none'}`, onMiss: 'null' }).sinkTo(out);
    await read.run();
    await lookup.close!();
    expect(out.values).toEqual(['3:n3', '7:n7', '99:none']);
  });

  it('sslmode and sslrootcert in the connection string work too (time-series sink, key store)', async () => {
    const cs = `postgres://sluice_pw:${SECURE_PASSWORD}@127.0.0.1:${SECURE_PORTS.postgres}/postgres?sslmode=verify-full&sslrootcert=${certs.ca}`;
    const job = new Job({ name: 'pg-tls-ts' });
    job
      .source(fromCollection([{ s: 'a', t: Date.UTC(2026, 0, 1), v: 1 }]), { uid: 'in' })
      .sinkTo(postgresTimeSeriesSink<{ s: string; t: number; v: number }>({ connectionString: cs, table: `${table}_ts`, columns: { s: 'text', t: 'timestamptz', v: 'double precision' }, series: ['s'], time: 't', row: (r) => [r.s, r.t, r.v] }), { uid: 'ts' });
    await job.run();
    expect((await admin.query(`SELECT v FROM ${table}_ts`)).rows).toEqual([{ v: 1 }]);
    const store = new PostgresKeyStore({ connectionString: certUser, ssl: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, table: `${table}_keys` });
    expect(await store.get('nobody')).toBeUndefined();
    await admin.query(`DROP TABLE IF EXISTS ${table}_keys`);
    await store.close();
  });

  it.each([
    ['a wrong password', { connectionString: passwordUser, password: 'not-the-password', ssl: { ca: 'CA' } }, /refused the credentials/],
    ['an unknown CA', { connectionString: passwordUser, password: SECURE_PASSWORD, ssl: true }, /signed by a CA this client does not trust/],
    ['a wrong host name', { connectionString: passwordUser.replace('127.0.0.1', '127.0.0.2'), password: SECURE_PASSWORD, ssl: { ca: 'CA' } }, /does not name the host/],
    ['an expired client certificate', { connectionString: certUser, ssl: { ca: 'CA', cert: 'EXPIRED', key: 'EXPIRED' } }, /refused the client certificate/],
    ['no client certificate for a cert user', { connectionString: certUser, ssl: { ca: 'CA' } }, /refused the client certificate/],
  ] as const)('%s gives CONNECTOR_AUTH or CONNECTOR_TLS naming the connector and the cause', async (_what, conn, says) => {
    const ssl = conn.ssl === true ? true : { ca: certs.ca, ...('cert' in conn.ssl ? { cert: certs.clientExpiredCert, key: certs.clientExpiredKey } : {}) };
    const e = await openFails({ ...conn, ssl });
    expectAuthFailure(e, /postgres sink 'secure-out': cannot connect to 127\.0\.0\.\d:15432\/postgres: /, says);
  });

  it('a lookup refused by the server dead-letters with CONNECTOR_AUTH', async () => {
    const lookup = postgresLookup({ connectionString: passwordUser, password: 'not-the-password', ssl: { ca: certs.ca }, table, keyColumn: 'id' });
    const job = new Job({ name: 'pg-tls-lookup-refused' });
    const dead = collectSink<{ error: { code: string; message: string } }>();
    lookupJoin(job.source(fromCollection([1]), { uid: 'ids' }), lookup, { uid: 'rows', key: (id) => id, join: (id) => String(id), onMiss: 'null', onError: 'dead-letter' }).sinkTo(collectSink<string>());
    job.deadLetters().sinkTo(dead);
    await job.run();
    await lookup.close!();
    expect(dead.values.map((d) => d.error.code)).toEqual(['CONNECTOR_AUTH']);
    expect(dead.values[0]!.error.message).toMatch(new RegExp(`postgresLookup '${table}'.*refused the credentials`));
    expect(dead.values[0]!.error.message).not.toContain('not-the-password');
  });
});
