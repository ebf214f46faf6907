import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from '../../src/formats/index.js';
import { SluiceError } from '../../src/errors/index.js';
import { makeCerts } from '../connectors/shared/tls-certs.js';
import { startFakeRegistry, type FakeRegistry } from './fake-registry.js';

// Issue 17: the schema registry client over HTTPS, mutual TLS, basic auth and bearer tokens.

const certs = makeCerts();
const schema = JSON.stringify({ type: 'record', name: 'T', fields: [{ name: 'a', type: 'int' }] });
const registries: FakeRegistry[] = [];
afterAll(async () => {
  await Promise.all(registries.map((r) => r.close()));
});

async function registry(opts: Parameters<typeof startFakeRegistry>[0]): Promise<string> {
  const r = await startFakeRegistry(opts);
  registries.push(r);
  return r.url;
}

async function failure(call: () => Promise<unknown>): Promise<SluiceError> {
  try {
    await call();
  } catch (e) {
    return e as SluiceError;
  }
  throw new Error('the call succeeded');
}

describe('SchemaRegistryClient over https with mutual TLS and basic auth', () => {
  let url: string;
  beforeAll(async () => {
    url = await registry({
      tls: { cert: certs.pem('server.pem'), key: certs.pem('server.key'), ca: certs.pem('ca.pem'), requestCert: true, rejectUnauthorized: true },
      authorization: `Basic ${Buffer.from('reg:reg-secret').toString('base64')}`,
    });
  });
  const tls = { ca: certs.path('ca.pem'), cert: certs.path('client.pem'), key: { file: certs.path('client.key') } };

  it('registers and fetches with the CA, a client certificate and the password from a secret reference', async () => {
    process.env.SLUICE_TEST_REGISTRY_PASSWORD = 'reg-secret';
    const client = new SchemaRegistryClient({ url, tls, auth: { username: 'reg', password: { env: 'SLUICE_TEST_REGISTRY_PASSWORD' } } });
    const id = await client.register('t-value', schema);
    expect(await new SchemaRegistryClient({ url, tls, auth: { username: 'reg', password: 'reg-secret' } }).schemaById(id)).toBe(schema);
  });

  it('a wrong password is CONNECTOR_AUTH, without the password in it', async () => {
    const e = await failure(() => new SchemaRegistryClient({ url, tls, auth: { username: 'reg', password: 'wrong-pass-1' } }).register('t-value', schema));
    expect(e.code).toBe('CONNECTOR_AUTH');
    expect(e.message).toMatch(/answered 401: the registry refused the credentials/);
    expect(String(e)).not.toContain('wrong-pass-1');
  });

  it('an unknown CA, or no client certificate, is CONNECTOR_TLS naming the registry', async () => {
    const unknown = await failure(() => new SchemaRegistryClient({ url, tls: { ...tls, ca: certs.path('other-ca.pem') }, auth: { username: 'reg', password: 'reg-secret' } }).schemaById(1));
    expect(unknown.code).toBe('CONNECTOR_TLS');
    expect(unknown.message).toMatch(new RegExp(`schema registry client: TLS to ${url} failed: .*unknown CA`));
    const noCert = await failure(() => new SchemaRegistryClient({ url, tls: { ca: certs.path('ca.pem') } }).schemaById(1));
    expect(noCert.code).toBe('CONNECTOR_TLS');
  });
});

describe('SchemaRegistryClient certificate checks', () => {
  it('a wrong host name and an expired certificate are CONNECTOR_TLS, each said', async () => {
    const wrongHost = await registry({ tls: { cert: certs.pem('wronghost.pem'), key: certs.pem('wronghost.key') } });
    const expired = await registry({ tls: { cert: certs.pem('expired.pem'), key: certs.pem('expired.key') } });
    const ca = certs.path('ca.pem');
    const e1 = await failure(() => new SchemaRegistryClient({ url: wrongHost, tls: { ca } }).schemaById(1));
    expect(e1).toMatchObject({ code: 'CONNECTOR_TLS', message: expect.stringMatching(/certificate is for another host name/) });
    const e2 = await failure(() => new SchemaRegistryClient({ url: expired, tls: { ca } }).schemaById(1));
    expect(e2).toMatchObject({ code: 'CONNECTOR_TLS', message: expect.stringMatching(/certificate has expired/) });
  });

  it('takes a bearer token', async () => {
    const url = await registry({ tls: { cert: certs.pem('server.pem'), key: certs.pem('server.key') }, authorization: 'Bearer tok-123' });
    const client = new SchemaRegistryClient({ url, tls: { ca: certs.pem('ca.pem') }, auth: { token: 'tok-123' } });
    expect(await client.versions('none')).toEqual([]);
    expect((await failure(() => new SchemaRegistryClient({ url, tls: { ca: certs.pem('ca.pem') } }).versions('none'))).code).toBe('CONNECTOR_AUTH');
  });
});
